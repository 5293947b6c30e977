"""Which tray backend runs, and keeping one running for the app's lifetime.

On Linux and the BSDs: the StatusNotifierItem backend (tray/outputs/tray/sni.py) whenever a tray host's watcher
is on the session bus; pystray (tray/outputs/tray/pystray_backend.py) on an X display with an XEmbed tray; and, on a
session bus without a watcher and without X (Wayland), the StatusNotifierItem backend waiting for a
host to appear. Elsewhere pystray. `SECONDLINE_TRAY=sni|pystray` forces one.

When there is nowhere to show the icon (the X display cannot be reached, e.g. the app started
before the X server at login; no tray host on the display; no session bus) the app keeps running
without it: one line says why and what to do, then the runner retries quietly every RETRY seconds
and shows the icon once it can. (`SECONDLINE_TRAY_RETRY=SECONDS` changes that pause: the tests use it.)
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from tray.outputs.tray import display as probes
from tray.core.model import Event, Snapshot
from tray.outputs.tray.menu import TrayController

log = logging.getLogger(__name__)

RETRY = 3.0      # seconds between looks for a display, a tray host or the session bus


@dataclass(frozen=True)
class Choice:
    backend: str | None    # "sni", "pystray", or None: nowhere to show the icon now
    reason: str            # one line for the log and `secondline doctor`
    key: str = ""          # what kind of reason (the log says each kind once)
    quiet: bool = False    # a passing doubt, not worth a line in the log


def _unix(platform_name: str) -> bool:
    return platform_name.startswith("linux") or "bsd" in platform_name


def choose(env: Mapping[str, str] | None = None, platform_name: str = sys.platform) -> Choice:
    env = os.environ if env is None else env
    if not _unix(platform_name):
        return Choice("pystray", f"pystray's {platform_name} backend", "native")
    forced = env.get("SECONDLINE_TRAY", "").strip().lower()
    x = env.get("DISPLAY", "")
    bus, watcher, why = probes.sni_watcher(env)
    if forced != "pystray":
        if watcher:
            return Choice("sni", "a StatusNotifierItem host (org.kde.StatusNotifierWatcher) is on the session "
                          "bus: StatusNotifierItem icon with its menu over com.canonical.dbusmenu", "sni")
        if bus and (forced == "sni" or not x):
            return Choice("sni", f"{why}; no X display{' (forced by SECONDLINE_TRAY)' if forced else ''}: "
                          "the StatusNotifierItem icon shows once a tray host starts (waybar's tray module, the "
                          "KDE panel, GNOME's AppIndicator extension)", "sni-wait")
        if forced == "sni":
            return Choice(None, f"SECONDLINE_TRAY=sni but {why}", "no-bus")
    if not x:
        if forced == "pystray":
            return Choice(None, "SECONDLINE_TRAY=pystray needs an X display (DISPLAY is unset)", "no-display")
        if env.get("WAYLAND_DISPLAY"):
            return Choice(None, f"no tray icon: {why} (a Wayland session shows tray icons through a "
                          "StatusNotifierItem host on the session bus); the icon shows once it can be reached",
                          "no-bus")
        return Choice(None, "no display (DISPLAY / WAYLAND_DISPLAY unset)", "no-display")
    err, owner = probes.x_tray_state(x)
    if err is not None:
        return Choice(None, f"the X display {x} cannot be reached ({err}): running without the tray icon "
                      "(the endpoint and notifications run as usual); the icon shows once the display can be "
                      "reached", "x-unreachable")
    if owner is None:       # the display answered but not the question: ask again rather than dock blind
        return Choice(None, f"cannot tell whether a tray host runs on the X display {x}", "x-unsure", quiet=True)
    if not owner:
        return Choice(None, f"no system tray on the X display {x}: no XEmbed tray host (_NET_SYSTEM_TRAY_S0) and "
                      "no StatusNotifierItem host on the session bus. Start your panel's notification area / "
                      "system tray (or trayer, stalonetray); the icon shows once one runs", "no-tray-host")
    return Choice("pystray", f"an XEmbed system tray on {x}: pystray icon", "pystray")


class TrayRunner:
    """Runs on the calling (main) thread until `stop_event` is set: the chosen backend, or quiet
    retries while there is none. The store's changes go to whichever backend is up."""

    def __init__(self, controller: TrayController, stop_event: threading.Event,
                 env: Mapping[str, str] | None = None, retry: float = RETRY) -> None:
        self.controller = controller
        self.stop_event = stop_event
        self.env = env
        self.retry = float(os.environ.get("SECONDLINE_TRAY_RETRY", retry))
        self.current: Any = None
        self._lock = threading.Lock()
        self._said: set[str] = set()
        controller.subscribe(self._forward)

    @property
    def backend(self) -> str | None:
        cur = self.current
        return getattr(cur, "backend", None) if cur is not None else None

    def _forward(self, snap: Snapshot, events: list[Event]) -> None:
        cur = self.current
        if cur is not None:
            cur.on_change(snap, events)

    def _say(self, choice: Choice) -> None:
        if choice.key not in self._said and not choice.quiet:
            self._said.add(choice.key)
            log.warning("%s", choice.reason)
        else:
            log.debug("still no tray icon (%s); looking again in %g s", choice.key, self.retry)

    def _make(self, choice: Choice) -> Any:
        if choice.backend == "sni":
            from tray.outputs.tray.sni import SniTray
            return SniTray(self.controller)
        from tray.outputs.tray.pystray_backend import TrayIcon
        return TrayIcon(self.controller)

    def run(self) -> None:
        threading.Thread(target=self._stop_when_asked, name="tray-stop", daemon=True).start()
        while not self.stop_event.is_set():
            choice = choose(self.env)
            if choice.backend is None:
                self._say(choice)
                self.stop_event.wait(self.retry)
                continue
            try:
                backend = self._make(choice)
            except Exception as exc:           # the display went away between the probe and now
                self._say(Choice(None, f"the tray icon cannot be created ({type(exc).__name__}: {exc})",
                                 f"make-{type(exc).__name__}"))
                self.stop_event.wait(self.retry)
                continue
            with self._lock:
                self.current = backend
            if self.stop_event.is_set():
                break
            try:
                ended = backend.run()
            except Exception as exc:
                ended = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.current = None
            if self.stop_event.is_set():
                break
            self._said.clear()
            log.warning("the tray icon is gone: %s; the endpoint and notifications keep running, and the icon "
                        "comes back when it can", ended or "its backend stopped")
            self.stop_event.wait(self.retry)

    def _stop_when_asked(self) -> None:
        self.stop_event.wait()
        with self._lock:
            cur = self.current
        if cur is not None:
            cur.stop()
