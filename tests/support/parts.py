"""One clear error when a real part (icinga2, Alertmanager, Chromium, Xvfb, D-Bus...) cannot start.

A fixture that starts a real part raises `PartDidNotStart` naming the part, the reason and the tail of
its log. tests/conftest.py turns that into the test's error text without a traceback, in full the first
time and as one line for every later test that needed the same part (a session fixture re-raises the same
exception object), instead of fifty copies of the same stack.
"""
from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

TAIL_LINES = 25


def log_tail(log: "Path | str | None", lines: int = TAIL_LINES) -> str:
    """The last lines of a log file ('' when there is none), or the text itself when given text."""
    if log is None:
        return ""
    if isinstance(log, Path):
        try:
            text = log.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
    else:
        text = log
    return "\n".join(text.strip().splitlines()[-lines:])


class PartDidNotStart(RuntimeError):
    def __init__(self, part: str, reason: str, log: "Path | str | None" = None) -> None:
        self.part = part
        self.reason = reason
        self.where = f" ({log})" if isinstance(log, Path) else ""
        self.tail = log_tail(log)
        self.reported = False
        super().__init__(f"{part} did not start: {reason}")

    def full(self) -> str:
        text = f"{self.part} did not start: {self.reason}"
        if self.tail:
            text += f"\n--- last lines of its log{self.where} ---\n{self.tail}"
        return text

    def short(self) -> str:
        where = "its log is" if self.tail else "details are"
        return f"{self.part} did not start: {self.reason} ({where} in the first error that names it)"


@contextmanager
def starting(part: str, log: "Callable[[], Path | str | None] | Path | None" = None) -> Iterator[None]:
    """Whatever goes wrong inside (a command that fails, a daemon that exits or never answers) is
    PartDidNotStart for `part`, with the failing command's output or else the log's tail."""
    try:
        yield
    except PartDidNotStart:
        raise
    except Exception as exc:
        if isinstance(exc, subprocess.CalledProcessError):
            out = exc.stderr or exc.stdout or b""
            text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
            raise PartDidNotStart(part, f"{exc.cmd[0]} exited with {exc.returncode}", text or None) from None
        try:
            where = log() if callable(log) else log
        except Exception:
            where = None
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise PartDidNotStart(part, reason, where) from None
