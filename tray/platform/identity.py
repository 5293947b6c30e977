"""The app's identity on the desktop: its icons as files and, on Linux, its desktop entry.

Notification services show the icon a pop-up names (else a generic one: desktop-notifier's
default is the Python logo) and group pop-ups by the `desktop-entry` hint, which names a
`<id>.desktop` file in an applications directory ($XDG_DATA_HOME/applications, ...). GNOME also
lists an app under Settings > Notifications only through that file. So secondline keeps, in its
user data dir, one PNG per state (the pop-up's icon: a critical pop-up shows the red cross) and an
app icon, and installs `secondline.desktop` into $XDG_DATA_HOME/applications when it is missing or
one of ours is out of date (another installation, a new icon path). A file there that we did not
write (a distribution package's, the user's own) is left alone.

`desktop_entry()` is pure; `ensure_*()` write atomically, only what changed, and never raise.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Mapping, Sequence

import platformdirs

from tray.platform import fsutil
from tray.outputs.tray import icon as icons

log = logging.getLogger(__name__)

DESKTOP_ID = "secondline"               # the hint's value and the file's name (secondline.desktop)
MARKER = "X-Secondline-Generated=true"  # a file with this line is ours to update
ICON_PX = 128


def icon_dir() -> Path:
    return Path(platformdirs.user_data_dir("secondline")) / "icons"


def icon_paths(directory: Path | None = None) -> dict[str, Path]:
    """state -> PNG path, plus "app" for the app icon."""
    d = directory or icon_dir()
    return {**{s: d / f"{s}.png" for s in icons.STATES}, "app": d / f"{DESKTOP_ID}.png"}


def _png(image) -> bytes:
    import io
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    fsutil.write_atomic(path, data, mode=0o644)


def ensure_icons(directory: Path | None = None) -> dict[str, Path]:
    """Write the icons that are missing or differ (a new palette); return their paths ({} when the
    directory cannot be written: pop-ups then carry no icon of ours)."""
    paths = icon_paths(directory)
    try:
        for state, path in paths.items():
            image = icons.app_icon(ICON_PX) if state == "app" else icons.render(state, 0, ICON_PX)
            _write_if_changed(path, _png(image))
    except OSError as exc:
        log.warning("cannot write the notification icons in %s: %s", paths["app"].parent, exc)
        return {}
    return paths


def applications_dir(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    # The XDG spec: a relative path is invalid and must be ignored.
    base = Path(value) if value and os.path.isabs(value) else (home or Path.home()) / ".local" / "share"
    return base / "applications"


def desktop_entry(command: Sequence[str], icon_path: Path) -> str:
    """The text of secondline.desktop for this installation (Desktop Entry Specification 1.5)."""
    from tray.platform.autostart import desktop_exec_arg
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=secondline",
        "GenericName=On-call status",
        "Comment=The on-call engineer's tray companion: one icon for the team's health",
        "Exec=" + " ".join(desktop_exec_arg(a) for a in command),
        f"Icon={icon_path}",
        "Terminal=false",
        "Categories=Utility;Monitor;",
        "Keywords=monitoring;on-call;alerts;icinga;alertmanager;pagerduty;",
        "StartupNotify=false",
        "X-GNOME-UsesNotifications=true",
        MARKER,
        "",
    ])


def ensure_desktop_entry(icon_path: Path, command: Sequence[str] | None = None,
                         env: Mapping[str, str] | None = None, home: Path | None = None) -> Path | None:
    """Install or update $XDG_DATA_HOME/applications/secondline.desktop (Linux and BSDs only).
    Returns the file that names the app (ours or one already there), or None."""
    if sys.platform in ("darwin", "win32", "cygwin"):
        return None
    from tray.platform.autostart import launch_command
    path = applications_dir(env, home) / f"{DESKTOP_ID}.desktop"
    text = desktop_entry(command or launch_command(), icon_path)
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError):
        return path                      # something is there that we cannot read: not ours to touch
    if current is not None and MARKER not in current:
        return path                      # a packaged or hand-made entry: it names the app already
    if current != text:
        try:
            fsutil.write_atomic(path, text, mode=0o644)
            log.info("desktop entry %s %s (the desktop groups secondline's pop-ups by it)",
                     "updated:" if current else "installed:", path)
        except OSError as exc:
            log.warning("cannot write the desktop entry %s: %s", path, exc)
            return None
    return path
