"""Start secondline at login: `secondline autostart enable|disable|status`.

One file per platform, each the platform's own mechanism, so that the user can see and remove it
without us:
  Linux (and BSDs): an XDG autostart entry, $XDG_CONFIG_HOME/autostart/secondline.desktop
  macOS:            a LaunchAgent, ~/Library/LaunchAgents/<LABEL>.plist (RunAtLoad)
  Windows:          a .cmd in the user's Startup folder (no pywin32 needed to write a .lnk, and
                    nothing in the registry to clean up)

The functions that compute (path, content) are pure, so every platform's file is tested on any
platform; only enable/disable/status touch the disk, with atomic writes.
"""
from __future__ import annotations

import os
import plistlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from tray.platform import fsutil

LABEL = "io.secondline.tray"     # LaunchAgent label (reverse-DNS by launchd convention)
NAME = "secondline"


@dataclass(frozen=True)
class Entry:
    """The autostart file this platform uses: where it goes and what it holds."""
    platform: str       # "linux" | "macos" | "windows"
    path: Path
    content: bytes
    command: tuple[str, ...]


def platform_kind(platform: str = sys.platform) -> str:
    if platform == "darwin":
        return "macos"
    if platform in ("win32", "cygwin"):
        return "windows"
    return "linux"      # linux, *bsd: both read XDG autostart entries


def launch_command(config_path: str | None = None, *, frozen: bool | None = None,
                   executable: str | None = None) -> tuple[str, ...]:
    """The command that starts this very installation: the one-file binary when frozen, else the
    interpreter running now with `-m tray` (works for a venv or a pip install alike)."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    exe = executable or sys.executable
    if not frozen and platform_kind() == "windows":
        # pythonw.exe: no console window stays open for the whole session.
        w = Path(exe).with_name("pythonw.exe")
        if w.exists():
            exe = str(w)
    cmd = (exe, "run") if frozen else (exe, "-m", "tray", "run")
    if config_path:
        cmd += ("--config", str(Path(config_path).expanduser().resolve()))
    return cmd


# -- Linux: XDG autostart .desktop ---------------------------------------------------------------

_DESKTOP_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def desktop_exec_arg(arg: str) -> str:
    """One argument of a desktop entry's Exec key (Desktop Entry spec, "The Exec key"): quoted when it
    holds a reserved character, with ", `, $ and \\ escaped inside the quotes; then the string escape
    rule doubles every backslash again; a literal % is written %%."""
    arg = arg.replace("%", "%%")
    if arg and not any(c in _DESKTOP_RESERVED for c in arg):
        return arg
    quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\").replace("\n", "\\n")


def xdg_config_home(env: Mapping[str, str], home: Path) -> Path:
    value = env.get("XDG_CONFIG_HOME", "")
    # The spec: a relative path is invalid and must be ignored.
    return Path(value) if value and os.path.isabs(value) else home / ".config"


def linux_entry(command: Sequence[str], env: Mapping[str, str], home: Path) -> Entry:
    path = xdg_config_home(env, home) / "autostart" / f"{NAME}.desktop"
    text = "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=secondline",
        "Comment=The on-call engineer's tray companion: one icon for the team's health",
        "Exec=" + " ".join(desktop_exec_arg(a) for a in command),
        "Terminal=false",
        "Categories=Utility;Monitor;",
        "X-GNOME-Autostart-enabled=true",
        # Give the desktop a moment to start its tray host (the icon docks into it).
        "X-GNOME-Autostart-Delay=5",
        "",
    ])
    return Entry("linux", path, text.encode("utf-8"), tuple(command))


# -- macOS: LaunchAgent ------------------------------------------------------------------------------

def macos_entry(command: Sequence[str], home: Path) -> Entry:
    path = home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    plist = {
        "Label": LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,              # Quit in the menu means quit until the next login
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",   # only in a graphical login, where the menu bar exists
    }
    return Entry("macos", path, plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=True),
                 tuple(command))


# -- Windows: Startup folder .cmd ---------------------------------------------------------------------

def windows_cmd_arg(arg: str) -> str:
    """An argument in a batch file: double-quoted, and % doubled (cmd expands %VAR% even in quotes).
    A path cannot contain ", so there is nothing else to escape."""
    return '"' + arg.replace("%", "%%") + '"'


def windows_entry(command: Sequence[str], env: Mapping[str, str], home: Path) -> Entry:
    appdata = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
    path = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / f"{NAME}.cmd"
    # `start ""` detaches, so the console of the .cmd closes at once; the empty "" is start's title.
    text = "@echo off\r\nrem secondline at login (`secondline autostart disable` removes this file)\r\n" \
           'start "" ' + " ".join(windows_cmd_arg(a) for a in command) + "\r\n"
    return Entry("windows", path, text.encode("utf-8"), tuple(command))


def entry_for(kind: str, command: Sequence[str], env: Mapping[str, str] | None = None,
              home: Path | None = None) -> Entry:
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if kind == "macos":
        return macos_entry(command, home)
    if kind == "windows":
        return windows_entry(command, env, home)
    return linux_entry(command, env, home)


def current_entry(config_path: str | None = None) -> Entry:
    return entry_for(platform_kind(), launch_command(config_path))


# -- the shell: files on disk --------------------------------------------------------------------------

def write_atomic(path: Path, data: bytes) -> None:
    """Readers (the session manager at login) see the old file or the new one, never half of one."""
    fsutil.write_atomic(path, data, mode=0o644)


def enable(entry: Entry) -> Path:
    write_atomic(entry.path, entry.content)
    return entry.path


def disable(entry: Entry) -> bool:
    """Remove the file; False when there was none."""
    try:
        entry.path.unlink()
    except FileNotFoundError:
        return False
    return True


def status(entry: Entry) -> str:
    """"enabled", "disabled", or "stale" (a file is there but starts another command/installation)."""
    try:
        data = entry.path.read_bytes()
    except FileNotFoundError:
        return "disabled"
    return "enabled" if data == entry.content else "stale"


def main(action: str, config_path: str | None = None, *, entry: Entry | None = None,
         out=None) -> int:
    """`secondline autostart enable|disable|status`. Exit 0 on success; for status 0 when enabled,
    1 when disabled or stale."""
    out = out or sys.stdout
    entry = entry or current_entry(config_path)
    command = " ".join(entry.command)
    if action == "enable":
        try:
            path = enable(entry)
        except OSError as exc:
            print(f"secondline: cannot write {entry.path}: {exc}", file=sys.stderr)
            return 1
        print(f"autostart enabled: {path}\n  starts: {command}", file=out)
        if entry.platform == "macos":
            print("  takes effect at the next login (or now: launchctl load " + str(path) + ")", file=out)
        return 0
    if action == "disable":
        try:
            removed = disable(entry)
        except OSError as exc:
            print(f"secondline: cannot remove {entry.path}: {exc}", file=sys.stderr)
            return 1
        print(f"autostart disabled: removed {entry.path}" if removed
              else f"autostart was not enabled ({entry.path} does not exist)", file=out)
        return 0
    if action == "status":
        state = status(entry)
        if state == "enabled":
            print(f"autostart enabled: {entry.path}\n  starts: {command}", file=out)
            return 0
        if state == "stale":
            print(f"autostart file {entry.path} starts another command than this installation "
                  f"({command}); run `secondline autostart enable` to update it", file=out)
            return 1
        print(f"autostart disabled (no {entry.path})", file=out)
        return 1
    print(f"secondline: unknown autostart action {action!r}: use enable, disable or status", file=sys.stderr)
    return 2
