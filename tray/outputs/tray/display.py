"""Is there somewhere to show a tray icon? Kept apart from pystray_backend.py and sni.py (beside it) so that
a headless run never imports Pillow or pystray (pystray connects to X at import).

Three cheap probes, each answering within a couple of seconds and never raising: an X display that
accepts connections, an XEmbed tray host on it, and a StatusNotifierItem host (the watcher) on the
session bus. tray.outputs.tray.runner chooses the backend from them; `secondline doctor` prints them.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Mapping

WATCHER = "org.kde.StatusNotifierWatcher"
log = logging.getLogger(__name__)


def display_available() -> bool:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def system_tray_owner(display: str) -> bool | None:
    """Whether an XEmbed system tray host holds _NET_SYSTEM_TRAY_S<screen> on this X display
    (None: cannot tell)."""
    return x_tray_state(display)[1]


def x_tray_state(display: str) -> tuple[str | None, bool | None]:
    """(why the display cannot be reached or None, whether an XEmbed tray host runs there: None when
    that could not be asked), over one connection."""
    try:
        from Xlib import X
        from Xlib import display as xdisplay
        d = xdisplay.Display(display)
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return text[:200], None
    try:
        atom = d.intern_atom("_NET_SYSTEM_TRAY_S%d" % d.get_default_screen())
        return None, d.get_selection_owner(atom) != X.NONE
    except Exception as exc:
        log.debug("cannot ask %s for its system tray: %r", display, exc)
        return None, None
    finally:
        try:
            d.close()
        except Exception:
            pass


def sni_watcher(env: Mapping[str, str] | None = None, timeout: float = 2.0) -> tuple[bool, bool, str]:
    """(session bus reachable, a StatusNotifierWatcher owns its name there, why not: one line)."""
    env = os.environ if env is None else env
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return False, False, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
    try:
        return asyncio.run(asyncio.wait_for(_ask_watcher(address), timeout))
    except Exception as exc:
        return False, False, f"the session bus cannot be reached ({type(exc).__name__}: {exc})"[:200]


async def _ask_watcher(address: str) -> tuple[bool, bool, str]:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus
    bus = await MessageBus(bus_address=address).connect()
    try:
        reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                       interface="org.freedesktop.DBus", member="NameHasOwner",
                                       signature="s", body=[WATCHER]))
        if reply.body and reply.body[0]:
            return True, True, ""
        return True, False, f"no StatusNotifierItem host ({WATCHER}) on the session bus"
    finally:
        bus.disconnect()
