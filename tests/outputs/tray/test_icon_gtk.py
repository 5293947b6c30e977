"""The icon as pystray's gtk backend (Gtk.StatusIcon) really shows it in trayer on Xvfb, compared pixel by
pixel with the icon drawn at that size.

GTK scales whatever picture it is given to the named icon size nearest the panel's (16, 24, 32, 48) and
shows it cut to the slot. Handed the 64 px picture, the count became a speck (docs/img/tray-menu.png before
issue 16). The backend now draws the icon at the size GTK shows it, from GTK's own size-changed signal.

This needs a Python with PyGObject (Debian's python3-gi; PyGObject from PyPI does not build on bookworm):
`make test` makes .venv-gtk, which sees the system's packages (SECONDLINE_GTK_PYTHON names another).
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from support.e2e import ARTIFACTS, REPO, AppProcess, clean_env
from support.dbus import PrivateBus
from support.procs import free_port
from support.xvfb import Trayer, Xvfb, screenshot, wait_slot
from tray.outputs.tray import icon as icons
from tray.outputs.tray.pystray_backend import gtk_status_icon_size

OUT = ARTIFACTS / "tray-gtk"
GTK_PYTHON = os.environ.get("SECONDLINE_GTK_PYTHON") or str(REPO / ".venv-gtk" / "bin" / "python")
pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each


class GtkAppProcess(AppProcess):
    """`python -m tray run ...` with the Python that has PyGObject."""

    def start(self) -> "GtkAppProcess":
        self._out = open(self.out_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([GTK_PYTHON, "-m", "tray", *self.args], env=self.env, cwd=str(REPO),
                                     stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self


@pytest.fixture(scope="module")
def gtk_python() -> str:
    probe = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk; import pystray, PIL"
    ok = Path(GTK_PYTHON).exists() and subprocess.run(
        [GTK_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"],
        capture_output=True, timeout=60).returncode == 0
    assert ok, (f"{GTK_PYTHON} cannot import gi and Gtk 3: run `make .venv-gtk/.installed` "
                f"(Debian's python3-gi, gir1.2-gtk-3.0) or set SECONDLINE_GTK_PYTHON ({probe})")
    return GTK_PYTHON


@pytest.mark.parametrize("panel", [18, 24, 32], ids=["16px", "22px", "30px"])
def test_gtk_status_icon_is_drawn_at_the_size_gtk_shows(gtk_python, home, tmp_path, panel):
    port = free_port()
    with Xvfb(width=400, height=100) as xvfb, Trayer(xvfb, height=panel), PrivateBus(tmp_path / "bus") as bus:
        # No PYSTRAY_BACKEND: the app itself picks the gtk backend where PyGObject is (not appindicator's).
        env = clean_env(home, **xvfb.env, **bus.env, NO_AT_BRIDGE="1",
                        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        env.pop("PYSTRAY_BACKEND")
        app = GtkAppProcess(["run", "--demo", "--port", str(port)], env, tmp_path / "app.out", port).start()
        try:
            app.wait_ready()
            app.wait_output("tray icon shown (pystray._gtk backend)", timeout=20)
            # The demo's warning step: one unhandled problem, so the count badge is drawn too.
            app.wait_status(lambda d: d["state"] == "warning", timeout=30, what="the demo's warning step")
            time.sleep(1.0)                # the icon follows the store's change callback
            x, y, w, h = wait_slot(xvfb.display, "secondline", "the GTK tray icon never showed in trayer "
                                   "(no mapped window of WM_CLASS secondline)")
            shot = screenshot(xvfb.display, OUT / f"trayer-{panel}.png")
            doc = app.status()
            assert doc["state"] == "warning", "the demo moved on during the screenshot; the test is racy"
        finally:
            assert app.stop() == 0, app.output()[-2000:]

    screen = Image.open(shot).convert("RGB")
    drawn, canvas = gtk_status_icon_size(h)
    # GTK's slot: as high as the panel gives, as wide as the picture GTK keeps.
    assert (w, h) == (canvas, panel - 2), f"a {w}x{h} slot in a {panel} px panel"
    background = screen.getpixel((x + w // 2, y - 1))          # trayer's 1 px border: the panel's colour
    got = screen.crop((x, y, x + w, y + h))
    c = doc["counts"]
    want = icons.slot_image(icons.render("warning", c["critical"] + c["warning"] + c["unknown"], drawn), w, h,
                            background)
    got.resize((w * 8, h * 8), Image.NEAREST).save(OUT / f"slot-{panel}-got.png")
    want.resize((w * 8, h * 8), Image.NEAREST).save(OUT / f"slot-{panel}-want.png")
    diff = [(px, py, got.getpixel((px, py)), want.getpixel((px, py))) for py in range(h) for px in range(w)
            if max(abs(a - b) for a, b in zip(got.getpixel((px, py)), want.getpixel((px, py)))) > 3]
    assert not diff, f"{len(diff)} of {w * h} pixels differ from the icon drawn at {drawn} px, e.g. {diff[:5]}"
