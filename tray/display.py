"""Is there a display for a tray icon? Kept apart from tray/trayicon.py so that a headless run
never imports Pillow or pystray (pystray connects to X at import)."""
from __future__ import annotations

import os
import sys


def display_available() -> bool:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
