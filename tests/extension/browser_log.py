"""A browser's console as it prints it, read line by line and stamped as each line arrives.

The extension's worker / event page logs `secondline badge "TEXT" STATE #colour` for every badge it sets.
Chromium prints that on stderr (`--enable-logging=stderr`); Firefox on stdout
(`devtools.console.stdout.content`), quoting it as a JS string (`console.info: "secondline badge \\"1\\" ..."`).
Reading the badge this way needs no debugger in the browser, which would change what is measured (Chromium
keeps a worker alive while one is attached)."""
from __future__ import annotations

import re
import subprocess
import threading
import time
from typing import IO, Callable

from support.browsers import wait_for

BADGE_LOG = re.compile(r'secondline badge \\?"([^"\\]*)\\?" (\w+) (#[0-9a-f]{6})')


class BrowserLog:
    """Lines of `stream` (a browser's stderr or stdout), each stamped with `clock` when it arrived."""

    def __init__(self, stream: IO[bytes], clock: Callable[[], float] = time.time):
        self.lines: list[tuple[float, str]] = []
        self.clock = clock
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    @classmethod
    def of(cls, proc: subprocess.Popen, clock: Callable[[], float] = time.time) -> "BrowserLog":
        return cls(proc.stdout if proc.stdout is not None else proc.stderr, clock)

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self.lines.append((self.clock(), raw.decode(errors="replace").rstrip()))

    def text(self) -> str:
        return "\n".join(line for _, line in list(self.lines))

    def badges(self, since: float = 0) -> list[tuple[float, str, str, str]]:
        """(when, text, state, #colour) of each badge the extension logged at or after `since`."""
        out = []
        for t, line in list(self.lines):
            m = BADGE_LOG.search(line)
            if m and t >= since:
                out.append((t, *m.groups()))
        return out

    def wait_badge(self, text: str, state: str, since: float, timeout: float) -> float:
        def seen():
            return [b for b in self.badges(since) if b[1] == text and b[2] == state]
        return wait_for(seen, timeout=timeout, step=0.01, what=f'badge "{text}" {state} in the browser log')[0][0]
