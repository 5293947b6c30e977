"""Firefox with the add-on installed in its profile and nothing driving it: no Marionette, no DevTools, so
the event page lives and dies by Firefox's own rules (extensions.background.idle.timeout). Seen only through
its console on stdout, where the event page logs each badge it sets (browser_log.py), and the tray's log.
Used by the quiet-minutes test and by bench/badge_lag.py; the Firefox twin of plain_chromium.py."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from .browser_log import BrowserLog
from support.browsers import wait_for
from .firefox import Addons, FirefoxExtension, FirefoxProcess, firefox_prefs, write_profile


def install_into_profile(profile: Path, xpi: Path, ext_id: str, port: int,
                         before_quit: Callable[[FirefoxExtension], object] | None = None, **prefs: Any) -> None:
    """Install the packaged add-on (`xpi`, the Firefox zip) into `profile` as a user would keep it (not a
    temporary add-on, which goes with the browser), point it at a tray on `port`, and quit that Firefox.
    The package is unsigned: Firefox ESR honours xpinstall.signatures.required=false (release builds do not)."""
    write_profile(profile, firefox_prefs(ext_id, **{"xpinstall.signatures.required": False, **prefs}))
    process = FirefoxProcess(profile).start()
    try:
        client = process.connect()
        installed = Addons(client).install(str(xpi), temp=False)
        assert installed == ext_id, installed
        ext = FirefoxExtension(process, client, installed)
        ext.set_port(port)
        if before_quit:
            before_quit(ext)
        try:
            client._request_in_app_shutdown()   # a clean quit writes the add-on database and the storage
        except Exception:   # the connection drops as the browser goes
            pass
        process.proc.wait(30)
    finally:
        process.stop()


@contextmanager
def plain_firefox(profile: Path, clock: Callable[[], float] = time.time) -> Iterator[tuple[Any, BrowserLog]]:
    """`firefox-esr --headless` on `profile`, without --marionette; yields (process, console log)."""
    process = FirefoxProcess(profile, marionette=False, clock=clock).start()
    try:
        wait_for(lambda: process.proc.poll() is None and process.log.lines, timeout=30, what="Firefox to start")
        yield process.proc, process.log
    finally:
        process.stop()
