"""The app's identity on the desktop: icon files for pop-ups, and the secondline.desktop that the
`desktop-entry` hint names (installed when missing, ours updated, anyone else's left alone)."""
from __future__ import annotations

import configparser
import os

from PIL import Image

from tray.outputs.tray import icon as icons
from tray.platform import identity


def parse(text: str) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read_string(text)
    return cp["Desktop Entry"]


def test_icons_written_once_and_rewritten_when_they_differ(tmp_path):
    paths = identity.ensure_icons(tmp_path)
    assert set(paths) == set(icons.STATES) | {"app"}
    for state in icons.STATES:
        assert Image.open(paths[state]).convert("RGBA").tobytes() == icons.render(state, 0, 128).tobytes()
    before = paths["critical"].stat().st_mtime_ns
    paths["warning"].write_bytes(b"old palette")
    identity.ensure_icons(tmp_path)
    assert paths["critical"].stat().st_mtime_ns == before            # unchanged: not rewritten
    assert Image.open(paths["warning"]).size == (128, 128)           # changed: rewritten


def test_icons_in_a_read_only_place_give_none(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):      # root ignores the mode
            return
        assert identity.ensure_icons(ro / "icons") == {}
    finally:
        os.chmod(ro, 0o700)


def test_desktop_entry_text(tmp_path):
    d = parse(identity.desktop_entry(["/opt/sl/bin/python", "-m", "tray", "run"], tmp_path / "i.png"))
    assert d["Type"] == "Application" and d["Name"] == "secondline"
    assert d["Exec"] == "/opt/sl/bin/python -m tray run"
    assert d["Icon"] == str(tmp_path / "i.png")
    assert d["X-GNOME-UsesNotifications"] == "true" and d["X-Secondline-Generated"] == "true"


def test_desktop_entry_installed_updated_and_foreign_left_alone(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    icon = tmp_path / "i.png"
    path = identity.ensure_desktop_entry(icon, ["/a/python", "-m", "tray", "run"], env=env, home=tmp_path)
    assert path == tmp_path / "data" / "applications" / "secondline.desktop"
    assert parse(path.read_text())["Exec"] == "/a/python -m tray run"
    # Another installation of ours: updated.
    identity.ensure_desktop_entry(icon, ["/b/secondline", "run"], env=env, home=tmp_path)
    assert parse(path.read_text())["Exec"] == "/b/secondline run"
    # A packaged or hand-written entry: never touched.
    path.write_text("[Desktop Entry]\nType=Application\nName=secondline\nExec=secondline run\n")
    assert identity.ensure_desktop_entry(icon, ["/c/x"], env=env, home=tmp_path) == path
    assert "Exec=secondline run" in path.read_text()


def test_relative_xdg_data_home_is_ignored(tmp_path):
    assert identity.applications_dir({"XDG_DATA_HOME": "rel"}, tmp_path) == tmp_path / ".local/share/applications"
