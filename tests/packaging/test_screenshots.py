"""scripts/screenshots.py draws the README pictures from the real code: the icon grid holds exactly
tray.outputs.tray.icon.render's images, the menu model picture comes from menu_model at the demo's critical step,
and the full run (icon and the real gtk menu on Xvfb, dashboard and popup in Chromium) writes every
picture with the critical colour in it.

The real menu needs a Python with PyGObject (Debian's python3-gi): `.venv-gtk` (see the script's
docstring) or SECONDLINE_GTK_PYTHON. Without one the script must say it skipped that picture."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tray.outputs.tray import icon as icons
from tray.core.document import palette

REPO = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "scripts" / "screenshots.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def has_colour(img: Image.Image, colour: tuple[int, int, int], at_least: int = 50) -> bool:
    rgb_img = img.convert("RGB")
    return sum(n for n, c in rgb_img.getcolors(maxcolors=1 << 20) if c == colour) >= at_least


def test_icon_grid_is_the_apps_own_icons():
    shots = load_script()
    grid = shots.icons_strip()
    # Every cell at 64 px is pasted from tray.outputs.tray.icon.render: compare the pixels where the icon is opaque.
    label_w, cell, head_h = 150, 76, 34
    for i, state in enumerate(icons.STATES):
        for j, n in enumerate(shots.ICON_COUNTS):
            want = icons.render(state, n)
            x0 = label_w + j * cell + (cell - want.width) // 2
            y0 = head_h + i * cell + (cell - want.height) // 2
            got = grid.crop((x0, y0, x0 + want.width, y0 + want.height))
            for xy in ((32, 10), (12, 32), (52, 52)):
                r, g, b, a = want.getpixel(xy)
                if a == 255:
                    assert got.getpixel(xy) == (r, g, b), (state, n, xy)
    for state in icons.STATES:
        assert has_colour(grid, rgb(palette()[state]))


def test_icon_grid_shows_the_panel_sizes_at_real_size():
    """The README shows 16, 22 and 24 px icons pixel for pixel as the app gives them to a panel
    (drawn at that size and blended into the panel's colour), never a 64 px picture scaled down."""
    shots = load_script()
    grid = shots.icons_strip()
    cells = list(shots.small_cells())
    assert {c[2] for c in cells} == {16, 22, 24} and len({c[3] for c in cells}) == 2
    for state, n, size, bg, (x, y) in cells:
        want = icons.slot_image(icons.render(state, n), size, size, bg)
        got = grid.crop((x, y, x + size, y + size))
        assert got.tobytes() == want.tobytes(), (state, n, size, bg)


def test_menu_picture_is_the_critical_step_of_the_demo():
    shots = load_script()
    snap = shots.demo_snapshot(shots.CRITICAL_STEP)
    assert snap.state == "critical" and snap.counts.critical == 1 and snap.counts.warning == 1
    img = shots.menu_picture(snap)
    assert img.width > 400 and img.height > 200
    assert has_colour(img, rgb(palette()["critical"]))     # the icon drawn beside it
    assert shots.demo_snapshot(4).sources[2].error           # step 4: integration cannot be read


@pytest.mark.slow
def test_full_run_writes_every_picture(tmp_path):
    import os
    gtk_python = os.environ.get("SECONDLINE_GTK_PYTHON") or str(REPO / ".venv-gtk" / "bin" / "python")
    shots = load_script()
    # `make test` makes .venv-gtk (Debian's python3-gi): the real GTK menu picture is part of the run.
    assert shots.gtk_python_ok(gtk_python), f"{gtk_python} cannot import gi and Gtk 3: run `make .venv-gtk/.installed`"
    out = subprocess.run([sys.executable, "scripts/screenshots.py", "--out", str(tmp_path), "--gtk-python",
                          gtk_python], cwd=REPO, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["dashboard-phone.png", "dashboard.png", "icons.png", "options.png", "popup.png",
                     "tray-menu-model.png", "tray-menu.png", "tray-xvfb.png"]
    critical = rgb(palette()["critical"])
    for name in ("dashboard.png", "dashboard-phone.png", "popup.png", "tray-xvfb.png", "tray-menu.png"):
        img = Image.open(tmp_path / name)
        assert has_colour(img, critical, 200), name          # photographed at the critical step
    assert has_colour(Image.open(tmp_path / "dashboard.png"), rgb(palette()["warning"]), 200)
    assert Image.open(tmp_path / "dashboard.png").width == 1280 and Image.open(tmp_path / "dashboard-phone.png").width == 400
    # The real gtk menu's icon is drawn at the size GTK shows it (30 px in trayer's 32 px panel), not a
    # 64 px picture GTK shrinks: its top-left slot holds the icon pixel for pixel.
    menu = Image.open(tmp_path / "tray-menu.png").convert("RGB")
    want = icons.render("critical", 2, 30)
    slot = menu.crop((1, 1, 33, 31))
    same = sum(1 for y in range(30) for x in range(30) if want.getpixel((x, y))[3] == 255
               and max(abs(a - b) for a, b in zip(slot.getpixel((x + 1, y)), want.getpixel((x, y))[:3])) <= 3)
    opaque = sum(1 for y in range(30) for x in range(30) if want.getpixel((x, y))[3] == 255)
    assert same >= 0.95 * opaque, f"{same} of {opaque} opaque icon pixels as drawn at 30 px"


def test_gtk_python_probe_rejects_a_python_without_pygobject(tmp_path):
    shots = load_script()
    assert not shots.gtk_python_ok(str(tmp_path / "no-such-python"))
    has_gi = subprocess.run([sys.executable, "-c", "import gi"], capture_output=True).returncode == 0
    assert shots.gtk_python_ok(sys.executable) is has_gi
