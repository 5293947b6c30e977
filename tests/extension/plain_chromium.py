"""Chromium with the extension and no debugger attached (so the MV3 worker's idle timeout applies), seen
only through its own log: the worker prints `secondline badge "TEXT" STATE #colour` for each badge it sets.
Used by the three-idle-minutes test and by bench/badge_lag.py."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .browser_log import BrowserLog
from .conftest import CHROMIUM, extension_args

# Chromium's stderr carries the worker's console (--enable-logging=stderr): see browser_log.py.
ChromiumLog = BrowserLog


@contextmanager
def plain_chromium(profile: Path, ext: Path, clock: Callable[[], float] = time.time
                   ) -> Iterator[tuple[subprocess.Popen, ChromiumLog]]:
    """`chromium --headless=new` on `profile` with the extension at `ext`, no --remote-debugging-*."""
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", f"--user-data-dir={profile}", *extension_args(ext),
         "--enable-logging=stderr", "--v=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield proc, BrowserLog(proc.stderr, clock)
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
