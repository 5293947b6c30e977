"""Chromium with the extension and no debugger attached (so the MV3 worker's idle timeout applies), seen
only through its own log: the worker prints `secondline badge "TEXT" STATE #colour` for each badge it sets.
Used by the three-idle-minutes test and by bench/badge_lag.py."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .conftest import CHROMIUM, extension_args, wait_for

BADGE_LOG = re.compile(r'secondline badge "([^"]*)" (\w+) (#[0-9a-f]{6})')


class ChromiumLog:
    """Chromium's stderr, read line by line and stamped with `clock` as each line arrives."""

    def __init__(self, proc: subprocess.Popen, clock: Callable[[], float] = time.time):
        self.lines: list[tuple[float, str]] = []
        self.clock = clock
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        for raw in proc.stderr:
            self.lines.append((self.clock(), raw.decode(errors="replace").rstrip()))

    def badges(self, since: float = 0) -> list[tuple[float, str, str, str]]:
        """(when, text, state, #colour) of each badge the worker logged at or after `since`."""
        out = []
        for t, line in list(self.lines):
            m = BADGE_LOG.search(line)
            if m and t >= since:
                out.append((t, *m.groups()))
        return out

    def wait_badge(self, text: str, state: str, since: float, timeout: float) -> float:
        def seen():
            return [b for b in self.badges(since) if b[1] == text and b[2] == state]
        return wait_for(seen, timeout=timeout, step=0.01, what=f'badge "{text}" {state} in the Chromium log')[0][0]


@contextmanager
def plain_chromium(profile: Path, ext: Path, clock: Callable[[], float] = time.time
                   ) -> Iterator[tuple[subprocess.Popen, ChromiumLog]]:
    """`chromium --headless=new` on `profile` with the extension at `ext`, no --remote-debugging-*."""
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", f"--user-data-dir={profile}", *extension_args(ext),
         "--enable-logging=stderr", "--v=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield proc, ChromiumLog(proc, clock)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def seed_port(chromium_type, profile: Path, ext: Path, port: int,
              before_close: Callable[[], object] | None = None) -> None:
    """Point the extension in `profile` at a tray on `port`: once, through Playwright's `chromium_type`,
    then close that browser (its debugger must not be attached to the run that is measured)."""
    ctx = chromium_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True,
        args=extension_args(ext))
    try:
        sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker")
        sw.evaluate(f"chrome.storage.sync.set({{port: {port}}})")
        if before_close:
            before_close()
    finally:
        ctx.close()
