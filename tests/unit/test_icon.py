"""Icon colours (pixel checks against the shared palette), glyphs that differ without colour, cache."""
import pytest

from tray import icon
from tray.document import palette
from tray.model import Alert, Severity
from tray.rules import reduce, source_snapshot
from datetime import datetime, timezone


def rgb(hexv):
    return icon.hex_rgb(hexv)


@pytest.mark.parametrize("state", icon.STATES)
def test_background_is_palette_colour(state):
    img = icon.render(state, 0)
    # a point inside the disc but off the glyph
    assert img.getpixel((32, 5))[:3] == rgb(palette()[state])
    assert img.getpixel((0, 0))[3] == 0   # transparent corner


def test_glyphs_differ_in_grey():
    """Colour-blind users must tell states apart: the shapes differ even in greyscale."""
    shapes = {}
    for state in icon.STATES:
        grey = icon.render(state, 0).convert("L").point(lambda v: 255 if v > 128 else 0)
        mask = icon.render(state, 0).split()[3]
        shapes[state] = bytes(grey.tobytes()) + bytes(mask.tobytes())
    assert len(set(shapes.values())) == len(icon.STATES)


def test_count_badge_drawn():
    plain = icon.render("critical", 0)
    counted = icon.render("critical", 3)
    corner = (48, 52)
    assert plain.getpixel(corner)[:3] == rgb(palette()["critical"])
    assert counted.getpixel(corner)[:3] != rgb(palette()["critical"])
    assert icon.render("critical", 3).tobytes() != icon.render("critical", 7).tobytes()
    assert icon.render("warning", 150) is not None   # "99+"


def test_cached():
    assert icon.render("warning", 2) is icon.render("warning", 2)


def test_unknown_state_rejected():
    with pytest.raises(ValueError):
        icon.render("purple")


def test_icon_for_snapshot():
    now = datetime.now(timezone.utc)
    s = source_snapshot(name="a", type="demo", group="g", checked_at=now, error=None,
                        alerts=(Alert(source="a", id="1", title="t", severity=Severity.WARNING),))
    img = icon.icon_for(reduce([s], now))
    assert img.getpixel((32, 5))[:3] == rgb(palette()["warning"])
