"""`secondline autostart`: the file each platform would get (pure, any platform), and on Linux the real
thing in a temporary XDG_CONFIG_HOME, with the Exec line parsed back and run."""
from __future__ import annotations

import io
import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from tray.platform import autostart
from tray.platform.autostart import Entry


# A reader for desktop entry Exec values, written from the spec (not from the writer), to check
# that every argument survives the round trip.
def parse_exec(value: str) -> list[str]:
    # 1. the string escape rule (\\s \\n \\t \\r \\\\)
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(value[i + 1], "\\" + value[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    text = "".join(out)
    # 2. the Exec quoting rule
    args, cur, quoted, i, have = [], [], False, 0, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                cur.append(text[i + 1]); i += 2; continue
            if c == '"':
                quoted = False
            else:
                cur.append(c)
        elif c == '"':
            quoted, have = True, True
        elif c == " ":
            if cur or have:
                args.append("".join(cur)); cur, have = [], False
        else:
            cur.append(c)
        i += 1
    if cur or have:
        args.append("".join(cur))
    return [a.replace("%%", "%") for a in args]


def desktop_keys(content: bytes) -> dict[str, str]:
    lines = content.decode().splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


@pytest.mark.parametrize("args", [
    ["/usr/bin/python3", "-m", "tray", "run"],
    ["/opt/my apps/secondline", "run", "--config", "/home/a b/cfg.toml"],
    ["/weird/$HOME/`x`/\"q\"/back\\slash/100%/it's", "run"],
    ["/tmp/new\nline", "run"],
])
def test_linux_exec_line_round_trips(args, tmp_path):
    entry = autostart.linux_entry(args, {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, tmp_path)
    keys = desktop_keys(entry.content)
    assert parse_exec(keys["Exec"]) == args
    assert "\n" not in keys["Exec"]
    assert keys["Type"] == "Application" and keys["Name"] == "secondline"
    assert entry.path == tmp_path / "cfg" / "autostart" / "secondline.desktop"


def test_linux_xdg_config_home_default_and_relative_value_ignored(tmp_path):
    assert autostart.linux_entry(["x"], {}, tmp_path).path == tmp_path / ".config/autostart/secondline.desktop"
    assert autostart.linux_entry(["x"], {"XDG_CONFIG_HOME": "rel/dir"}, tmp_path).path == \
        tmp_path / ".config/autostart/secondline.desktop"


def test_macos_launch_agent(tmp_path):
    cmd = ["/Applications/secondline", "run", "--config", "/Users/a b/c.toml"]
    entry = autostart.entry_for("macos", cmd, env={}, home=Path("/Users/ann"))
    assert entry.path == Path("/Users/ann/Library/LaunchAgents/io.secondline.tray.plist")
    plist = plistlib.loads(entry.content)
    assert plist == {"Label": "io.secondline.tray", "ProgramArguments": cmd, "RunAtLoad": True,
                     "KeepAlive": False, "ProcessType": "Interactive", "LimitLoadToSessionType": "Aqua"}
    assert entry.content.startswith(b"<?xml")


def test_windows_startup_cmd():
    cmd = [r"C:\Users\Ann\AppData\Local\Programs\secondline\secondline.exe", "run", "--config",
           r"C:\Users\Ann\100% sure\config.toml"]
    entry = autostart.entry_for("windows", cmd, env={"APPDATA": r"C:\Users\Ann\AppData\Roaming"},
                                home=Path("/unused"))
    assert str(entry.path).replace("\\", "/") == \
        "C:/Users/Ann/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/secondline.cmd"
    text = entry.content.decode()
    lines = text.split("\r\n")
    assert lines[0] == "@echo off" and lines[-1] == ""
    assert "\n" not in text.replace("\r\n", "")           # CRLF only: cmd.exe is picky
    assert lines[2] == ('start "" "C:\\Users\\Ann\\AppData\\Local\\Programs\\secondline\\secondline.exe" '
                        '"run" "--config" "C:\\Users\\Ann\\100%% sure\\config.toml"')


def test_windows_without_appdata_uses_the_profile():
    entry = autostart.entry_for("windows", ["s.exe", "run"], env={}, home=Path("/home/ann"))
    assert entry.path == Path("/home/ann/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/secondline.cmd")


def test_platform_kind():
    assert [autostart.platform_kind(p) for p in ("linux", "darwin", "win32", "freebsd14")] == \
        ["linux", "macos", "windows", "linux"]


def test_launch_command_frozen_and_from_source(tmp_path):
    assert autostart.launch_command(frozen=True, executable="/opt/secondline") == ("/opt/secondline", "run")
    assert autostart.launch_command(frozen=False, executable="/v/bin/python") == ("/v/bin/python", "-m", "tray", "run")
    cfg = tmp_path / "c.toml"
    assert autostart.launch_command(str(cfg), frozen=True, executable="/opt/s") == \
        ("/opt/s", "run", "--config", str(cfg.resolve()))


def run_main(action: str, entry: Entry | None = None) -> tuple[int, str]:
    buf = io.StringIO()
    code = autostart.main(action, entry=entry, out=buf)
    return code, buf.getvalue()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the real XDG autostart file is Linux's")
def test_linux_enable_status_disable_for_real(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    target = tmp_path / "xdg" / "autostart" / "secondline.desktop"

    assert run_main("status") == (1, f"autostart disabled (no {target})\n")
    code, out = run_main("enable")
    assert code == 0 and str(target) in out
    assert [p.name for p in target.parent.iterdir()] == ["secondline.desktop"]   # no temp file left
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    argv = parse_exec(desktop_keys(target.read_bytes())["Exec"])
    assert argv == [sys.executable, "-m", "tray", "run"]
    # The command really starts this installation.
    ver = subprocess.run(argv[:-1] + ["--version"], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert ver.returncode == 0 and ver.stdout.startswith("secondline "), ver.stderr

    assert run_main("status")[0] == 0
    assert run_main("enable")[0] == 0                   # idempotent
    # A file left by another installation is reported as stale, and enable replaces it.
    target.write_text(target.read_text().replace(sys.executable, "/old/python"))
    code, out = run_main("status")
    assert code == 1 and "another command" in out
    run_main("enable")
    assert run_main("status")[0] == 0

    assert run_main("disable") == (0, f"autostart disabled: removed {target}\n")
    assert not target.exists()
    assert run_main("disable") == (0, f"autostart was not enabled ({target} does not exist)\n")
    assert run_main("status")[0] == 1


def test_enable_reports_an_unwritable_place(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    entry = Entry("linux", blocker / "autostart" / "secondline.desktop", b"x", ("x",))
    assert autostart.main("enable", entry=entry) == 1
    assert "cannot write" in capsys.readouterr().err


def test_unknown_action(capsys):
    assert autostart.main("maybe", entry=Entry("linux", Path("/nonexistent/x"), b"", ())) == 2
    assert "enable, disable or status" in capsys.readouterr().err


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "a.desktop"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(autostart.os, "replace", boom)
    with pytest.raises(OSError):
        autostart.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.desktop"]
