"""The icon in an XEmbed system tray (pystray's xorg backend), drawn for the slot it is given.

pystray's xorg backend stretches the icon to the tray's slot (trayer gives 24x30: a tall oval) and
pastes its RGBA into an RGB window, so every transparent or half-transparent pixel turns black (a
black corner and a speckled rim). XEmbed has no alpha unless the tray offers an ARGB visual, and
few do. Here the picture is made for the slot instead: the icon drawn at the slot's shorter side,
centred, composited against what the tray shows behind the slot.

That background is read the way X offers it: the icon window's background is set to
ParentRelative, so clearing it paints the tray's own background there (a plain colour, a theme
pixmap, or a pseudo-transparent copy of the wallpaper), and GetImage reads those pixels back. This
runs on pystray's loop thread with pystray's own connection, inside its draw call, so nothing else
draws meanwhile.

pystray also asks the tray to dock the icon again on every icon change, and trayer (like any GTK
tray) answers each request by embedding the icon into a new socket and dropping the old one. Under
load those re-embeddings overlap, and 4 of 81 runs of the tray-slot tests on a loaded 2-core machine
ended with the icon inside a socket the tray had already given up on: 1 px wide, an icon nobody sees. Here a request goes out only when
the icon is not in the tray and none is pending (the tray has `DOCK_PATIENCE` seconds to answer).
"""
from __future__ import annotations

import logging
import time
from typing import Any

from PIL import Image

from tray.outputs.tray import icon as icons

log = logging.getLogger(__name__)

FALLBACK_BACKGROUND = (0, 0, 0)    # what pystray itself shows where it cannot read the tray
DOCK_PATIENCE = 2.0                # seconds a dock request may take before another is sent


def applies(icon: Any) -> bool:
    return type(icon).__module__.endswith("_xorg") and all(
        hasattr(icon, a) for a in ("_assert_icon_data", "_dock_window", "_get_systray_manager",
                                   "_systray_manager", "_window", "_display", "_icon"))


def embedded(icon: Any) -> bool:
    """Whether pystray's icon window sits inside some other window (the tray's), not on the root."""
    try:
        return icon._window.query_tree().parent.id != icon._display.screen().root.id
    except Exception:   # the window or the display went away
        return False


def read_background(window: Any, width: int, height: int) -> Image.Image | None:
    """What the tray shows under `window` (RGB, width x height), or None when it cannot be read."""
    from Xlib import X
    try:
        window.change_attributes(background_pixmap=X.ParentRelative)
        window.clear_area(0, 0, width, height)
        raw = window.get_image(0, 0, width, height, X.ZPixmap, 0xFFFFFFFF)
        depth = window.get_geometry().depth
    except Exception as exc:   # BadMatch (a parent of another depth), a window gone meanwhile
        log.debug("tray background cannot be read: %s", exc)
        return None
    if depth not in (24, 32) or len(raw.data) < width * height * 4:
        log.debug("tray background: unsupported depth %s", depth)
        return None
    return Image.frombytes("RGB", (width, height), raw.data, "raw", "BGRX")


def install(icon: Any) -> bool:
    """Make pystray's xorg icon draw `tray.outputs.tray.icon.slot_image` for its slot. False when it is not the
    xorg backend (or a pystray whose internals differ): it then draws as before."""
    if not applies(icon):
        return False
    state: dict[str, Any] = {}

    def assert_icon_data(width: int, height: int) -> None:
        # pystray calls this from _draw (expose, re-dock, icon change) on its loop thread. It sets
        # _icon_data to None when the icon changes; the tray may also move us to another slot.
        try:
            parent = icon._window.query_tree().parent.id
        except Exception:
            parent = None
        key = (width, height, parent)
        if icon._icon_data is not None and state.get("key") == key:
            return
        background = read_background(icon._window, width, height)
        if background is None:
            background = FALLBACK_BACKGROUND
        data = icons.slot_image(icon._icon, width, height, background)
        data.tostring = data.tobytes      # what pystray adds for old python-xlib releases
        icon._icon_data = data
        state["key"] = key

    original_dock = icon._dock_window
    asked = {"at": float("-inf")}

    def dock_window() -> None:
        # pystray calls this from _show and from every _update_icon, on its loop thread.
        manager = icon._get_systray_manager()
        if not manager:
            return
        same_tray = icon._systray_manager is not None and icon._systray_manager.id == manager.id
        if same_tray and (embedded(icon) or time.monotonic() - asked["at"] < DOCK_PATIENCE):
            return
        asked["at"] = time.monotonic()
        original_dock()

    icon._assert_icon_data = assert_icon_data
    icon._dock_window = dock_window
    return True
