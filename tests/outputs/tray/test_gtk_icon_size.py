"""The size the pystray gtk backend's icon is drawn at: the one GTK shows it at (gtkstatusicon.c rounds
the panel's size to the nearest named icon size and scales any picture to that), and the backend chosen
where pystray would take appindicator's Gtk.StatusIcon fallback, whose size nobody is told."""
from __future__ import annotations

import sys
import types

import pytest

from tray.outputs.tray import icon as icons
from tray.outputs.tray.pystray_backend import gtk_status_icon_size, prefer_gtk_status_icon


@pytest.mark.parametrize("allocated, shown", [
    (16, (16, 16)),     # a 16 px panel: drawn at 16, nothing for GTK to scale
    (18, (16, 16)),     # GTK shows 16 in an 18 px slot
    (22, (22, 24)),     # GTK shows 24 cut to 22: draw 22 in the middle of 24, the margin is what is cut
    (24, (24, 24)),
    (30, (30, 32)),     # trayer's 32 px panel: the icon window is 30 high, GTK shows 32
    (32, (32, 32)),
    (64, (48, 48)),
])
def test_drawn_at_the_size_gtk_shows(allocated, shown):
    assert gtk_status_icon_size(allocated) == shown


def test_the_picture_for_gtk_is_the_small_icon_centred_on_the_canvas_gtk_keeps():
    drawn, canvas = gtk_status_icon_size(22)
    img = icons.on_canvas(icons.render("warning", 3, drawn), canvas)
    assert img.size == (24, 24)
    inner = img.crop((1, 1, 23, 23))
    assert inner.tobytes() == icons.render("warning", 3, 22).tobytes()
    assert all(img.getpixel((x, 0))[3] == 0 for x in range(24))        # the margin GTK cuts is empty


def fake_gi(monkeypatch, gtk_ok: bool) -> list[str]:
    names: list[str] = []
    gi = types.ModuleType("gi")

    def require_version(name, version):
        if not gtk_ok:
            raise ValueError("Namespace Gtk not available")
    gi.require_version = require_version
    repo = types.ModuleType("gi.repository")
    repo.GLib = types.SimpleNamespace(set_prgname=names.append)
    gi.repository = repo
    monkeypatch.setitem(sys.modules, "gi", gi)
    monkeypatch.setitem(sys.modules, "gi.repository", repo)
    monkeypatch.setattr(sys, "platform", "linux")
    return names


def test_gtk_preferred_over_appindicator_when_pygobject_has_gtk(monkeypatch):
    names = fake_gi(monkeypatch, gtk_ok=True)
    env: dict[str, str] = {}
    assert prefer_gtk_status_icon(env) is True
    assert env == {"PYSTRAY_BACKEND": "gtk"} and names == ["secondline"]


def test_the_users_backend_and_a_python_without_gtk_are_left_alone(monkeypatch):
    names = fake_gi(monkeypatch, gtk_ok=False)
    env: dict[str, str] = {}
    assert prefer_gtk_status_icon(env) is False and env == {}
    env = {"PYSTRAY_BACKEND": "xorg"}
    assert prefer_gtk_status_icon(env) is False and env == {"PYSTRAY_BACKEND": "xorg"}
    assert names == []
