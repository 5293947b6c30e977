"""Icon colours (pixel checks against the shared palette), glyphs that differ without colour, cache."""
import pytest
from PIL import Image

from tray.outputs.tray import icon
from tray.core.document import palette
from tray.core.model import Alert, Severity
from tray.core.rules import reduce, source_snapshot
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


# -- legible at the sizes panels use (16, 22, 24 px): drawn there, not shrunk ----------------------

PANEL_SIZES = (16, 22, 24)
COUNTS = (1, 3, 7, 9, 12, 42, 99, 120)


def _extent(points):
    """The larger side of the points' bounding box."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return max(max(xs) - min(xs), max(ys) - min(ys)) + 1


def _glyph_pixels(img, state, box):
    """Opaque pixels of the glyph (clearly not the disc colour), outside the badge."""
    disc, ink = icon.colour(state), rgb(palette()["text_on"][state])

    def dist(a, b):
        return sum(abs(x - y) for x, y in zip(a, b))
    s = img.width
    return [(x, y) for y in range(s) for x in range(s)
            if img.getpixel((x, y))[3] == 255 and dist(img.getpixel((x, y))[:3], ink) < dist(img.getpixel((x, y))[:3], disc)
            and not (box and x >= box[0] and y >= box[1])]


@pytest.mark.parametrize("size", PANEL_SIZES)
@pytest.mark.parametrize("state", icon.STATES)
def test_glyph_and_badge_never_touch(state, size):
    """The count badge used to sit on the dot of "!" and "?": now the glyph is fitted around it,
    with a pixel of disc colour between them, and stays big enough to read."""
    alone = _glyph_pixels(icon.render(state, 0, size), state, None)
    for n in COUNTS:
        img = icon.render(state, n, size)
        box = icon.badge_box(icon.badge_text(n, size), size)
        assert box is not None and box[2] == size and box[3] == size     # the bottom-right corner
        glyph = _glyph_pixels(img, state, box)
        # Nothing of the glyph within GAP px of the badge.
        near = [(x, y) for x, y in glyph if x >= box[0] - icon.GAP and y >= box[1] - icon.GAP]
        assert not near, (state, n, size, near)
        # Still the same glyph, not a speck: at least half its extent alone, and 5 px.
        assert _extent(glyph) >= max(5, 0.5 * _extent(alone)), (state, n, size, _extent(glyph), _extent(alone))


def _lit(img, box):
    """The badge's digits: its pure-white pixels, as rows of '#'/'.' over the badge's box."""
    x0, y0, x1, y1 = box
    rows = ["".join("#" if img.getpixel((x, y))[:3] == icon.BADGE_FG else "." for x in range(x0, x1))
            for y in range(y0, y1)]
    return rows


def _characters(rows):
    """Split lit columns into characters (runs of columns with a lit pixel), trimmed to their rows."""
    cols = ["".join(r[c] for r in rows) for c in range(len(rows[0]))]
    chars, cur = [], []
    for c in cols + ["." * len(rows)]:
        if "#" in c:
            cur.append(c)
        elif cur:
            chars.append(cur)
            cur = []
    out = []
    for ch in chars:
        lit_rows = [i for i in range(len(rows)) if any(col[i] == "#" for col in ch)]
        out.append(tuple("".join(col[i] for col in ch) for i in range(lit_rows[0], lit_rows[-1] + 1)))
    return out


@pytest.mark.parametrize("size", PANEL_SIZES)
def test_count_is_sharp_digits_of_readable_height(size):
    """The count is whole-pixel digits, white on a dark plate: each digit as tall as a small
    terminal font (5 px at 16, 7 px from 22), every digit a different shape, one per character."""
    min_height = 5 if size < 20 else 7
    shapes = {}
    for n in range(1, 10):
        img = icon.render("critical", n, size)
        box = icon.badge_box(str(n), size)
        chars = _characters(_lit(img, box))
        assert len(chars) == 1, (n, _lit(img, box))
        assert len(chars[0]) >= min_height, (n, chars[0])
        shapes[n] = chars[0]
        # The plate keeps at least a pixel round the digit: it is not drawn on the disc's colour.
        rows = _lit(img, box)
        assert "#" not in rows[0] + rows[-1] and all(r[0] == "." and r[-1] == "." for r in rows)
    assert len(set(shapes.values())) == 9, "two digits look the same"
    # A "1" looks like a one (a stem with a foot), not a smear.
    one = shapes[1]
    stem = [r for r in one if r.count("#") == 1]
    assert len(stem) >= len(one) - 3


@pytest.mark.parametrize("size, count, text", [
    (16, 12, "9+"), (16, 120, "9+"), (22, 42, "42"), (22, 120, "99+"), (24, 99, "99"), (24, 1000, "99+")])
def test_big_counts_are_capped_to_what_fits(size, count, text):
    assert icon.badge_text(count, size) == text
    img = icon.render("warning", count, size)
    box = icon.badge_box(text, size)
    assert box[0] >= 0 and box[1] >= 0, "the badge does not fit the icon"
    assert len(_characters(_lit(img, box))) == len(text)


def test_badge_contrast():
    """White on the plate: WCAG contrast at least 7:1 (AAA for small text)."""
    def lum(c):
        v = [(x / 255) for x in c]
        v = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in v]
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]
    a, b = lum(icon.BADGE_FG), lum(icon.BADGE_BG)
    assert (max(a, b) + 0.05) / (min(a, b) + 0.05) >= 7


@pytest.mark.parametrize("size", (16, 22, 24, 32, 48, 64))
def test_drawn_at_the_size_asked_and_round(size):
    img = icon.render("ok", 0, size)
    assert img.size == (size, size) and img.mode == "RGBA"
    opaque = img.split()[3].point(lambda a: 255 if a == 255 else 0).getbbox()
    w, h = opaque[2] - opaque[0], opaque[3] - opaque[1]
    assert w == h and w >= size - 2


@pytest.mark.parametrize("width, height", [(24, 30), (30, 24), (24, 16), (24, 22), (22, 22), (48, 64)])
def test_slot_image_keeps_the_aspect_and_has_no_alpha(width, height):
    """XEmbed slots are rarely square (trayer: 24 x panel-2) and have no alpha: the picture for
    a slot is the icon at the slot's shorter side, centred, blended into the panel's colour."""
    bg = (220, 218, 213)
    img = icon.slot_image(icon.render("warning", 3), width, height, bg)
    assert img.mode == "RGB" and img.size == (width, height)
    side = min(width, height)
    ox, oy = (width - side) // 2, (height - side) // 2
    want = Image.new("RGBA", (width, height), bg + (255,))
    want.alpha_composite(icon.render("warning", 3, side), (ox, oy))
    assert img.tobytes() == want.convert("RGB").tobytes()
    # No black rim: every pixel outside the disc's square is the panel's own colour, and the
    # disc's edge pixels lie between the panel colour and the disc colour.
    disc = icon.colour("warning")
    for y in range(height):
        for x in range(width):
            p = img.getpixel((x, y))
            if not (ox <= x < ox + side and oy <= y < oy + side):
                assert p == bg
    edge = [img.getpixel((ox + side // 2, oy + y)) for y in range(3)]
    for p in edge:
        assert all(min(b, d) - 2 <= v <= max(b, d) + 2 for v, b, d in zip(p, bg, disc)), edge


def test_slot_image_over_a_picture_background():
    """A pseudo-transparent panel shows the wallpaper: the icon blends into those very pixels."""
    bg = Image.linear_gradient("L").resize((24, 30)).convert("RGB")
    img = icon.slot_image(icon.render("critical", 0), 24, 30, bg)
    assert img.getpixel((0, 0)) == bg.getpixel((0, 0)) and img.getpixel((23, 29)) == bg.getpixel((23, 29))


def test_a_foreign_image_is_scaled_not_stretched():
    square = Image.new("RGBA", (10, 10), (255, 0, 0, 255))
    img = icon.slot_image(square, 24, 30, (0, 0, 255))
    assert img.getpixel((12, 2)) == (0, 0, 255) and img.getpixel((12, 15)) == (255, 0, 0)


def test_app_icon():
    img = icon.app_icon(64)
    assert img.size == (64, 64) and img.getpixel((0, 0))[3] == 0 and img.getpixel((32, 5))[3] == 255
