"""Snapshot state -> tray icon image (pure, cached).

Each state has its own colour (shared/palette.json) and its own glyph, so the icon reads without
colour too: ok a tick, handled-only a hollow tick, warning an exclamation mark, critical a cross,
unknown a question mark, no data a dash. The number of unhandled problems sits in a badge in the
bottom-right corner.

The icon is drawn at the size it is shown at (16, 22, 24 px in panels; 32-64 for HiDPI and the
StatusNotifierItem pixmaps), never scaled afterwards: a 64 px picture shrunk to 22 px turns a digit
into a grey smudge. The disc and glyph are drawn 8x larger and reduced (smooth edges); the count is
a bitmap font placed on whole pixels, so it stays sharp at 16 px. The glyph is fitted around the
badge (shrunk and moved towards the top left as little as needed) so neither hides the other.

`render()` gives RGBA with soft (half-transparent) edges, for hosts that composite alpha.
`slot_image()` lays it into a tray slot of any shape, composited against the slot's background,
for XEmbed trays, which have no alpha (tray/outputs/tray/xembed.py reads that background).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from PIL import Image, ImageChops, ImageDraw

from tray.core.document import palette

SIZE = 64
STATES = ("ok", "warning", "unknown", "critical", "handled_only", "no_data")
SUPERSAMPLE = 8
BADGE_BG = (24, 24, 24)
BADGE_FG = (255, 255, 255)
GAP = 1                      # px of disc left between the glyph and the badge
INFO_KEY = "secondline.icon"  # Image.info entry: (state, count) of a rendered icon

# Bitmap digits, one string per row, "#" = lit. 3x5 below 20 px; 5x7 from 20 px (scaled up whole).
_SMALL = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "+": ("...", ".#.", "###", ".#.", "..."),
}
_LARGE = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
}


def hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def colour(state: str) -> tuple[int, int, int]:
    return hex_rgb(palette()[state])


# -- the count badge ------------------------------------------------------------------------------

def font_for(size: int) -> tuple[dict[str, tuple[str, ...]], int]:
    """The bitmap font and its whole-pixel scale for an icon of `size` px."""
    if size < 20:
        return _SMALL, 1
    return _LARGE, 1 if size < 40 else max(2, size // 36)


def badge_text(count: int, size: int) -> str:
    """What the badge says: the count, capped where more digits would not fit ("9+" below 20 px)."""
    if count <= 0:
        return ""
    cap = 9 if size < 20 else 99
    return str(count) if count <= cap else f"{cap}+"


def badge_box(text: str, size: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), exclusive end, of the badge in the bottom-right corner; None without text."""
    if not text:
        return None
    font, sc = font_for(size)
    fh, fw = len(font["0"]), len(font["0"][0])
    tw = (len(text) * fw + len(text) - 1) * sc
    h = fh * sc + 2 * sc
    w = max(h, tw + 2 * sc)
    return size - w, size - h, size, size


def _draw_text(img: Image.Image, text: str, box: tuple[int, int, int, int], size: int) -> None:
    font, sc = font_for(size)
    fh, fw = len(font["0"]), len(font["0"][0])
    tw = (len(text) * fw + len(text) - 1) * sc
    x = box[0] + (box[2] - box[0] - tw) // 2
    y = box[1] + (box[3] - box[1] - fh * sc) // 2
    px = img.load()
    for ch in text:
        for r, row in enumerate(font[ch]):
            for c, cell in enumerate(row):
                if cell == "#":
                    for dy in range(sc):
                        for dx in range(sc):
                            px[x + c * sc + dx, y + r * sc + dy] = BADGE_FG + (255,)
        x += (fw + 1) * sc


def _draw_badge(img: Image.Image, text: str, size: int) -> None:
    box = badge_box(text, size)
    if box is None:
        return
    x0, y0, x1, y1 = box
    k = SUPERSAMPLE
    w, h = x1 - x0, y1 - y0
    # A rounded plate, smoothed like the disc; then the digits on whole pixels.
    big = Image.new("L", (w * k, h * k), 0)
    radius = max(1, min(w, h) * k // 3)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, w * k - 1, h * k - 1), radius=radius, fill=255)
    mask = big.resize((w, h), Image.BOX)
    plate = Image.new("RGBA", (w, h), BADGE_BG + (255,))
    plate.putalpha(mask)
    img.alpha_composite(plate, (x0, y0))
    _draw_text(img, text, box, size)


# -- glyphs ---------------------------------------------------------------------------------------

def _glyph(d: ImageDraw.ImageDraw, state: str, fill: int | tuple, x0: float, y0: float, g: float,
           unit: float) -> None:
    """Draw a state's glyph into the square (x0, y0, side g); `unit` is one output pixel."""
    w = max(2 * unit, round(g / unit * 0.14) * unit)   # stroke: a whole number of output pixels

    def p(u: float, v: float) -> tuple[float, float]:
        return x0 + u * g, y0 + v * g

    def snap(v: float) -> float:
        return round(v / unit) * unit

    def vbar(u: float, v0: float, v1: float) -> None:
        # Straight strokes snap to the pixel grid, so "!" and "?" stay crisp at 16 px.
        left = snap(x0 + u * g - w / 2)
        d.rectangle((left, snap(y0 + v0 * g), left + w - 1, snap(y0 + v1 * g) - 1), fill=fill)

    def dot(u: float, v: float) -> None:
        cx, cy = p(u, v)
        left, top = snap(cx - w / 2), snap(cy - w / 2)
        d.rectangle((left, top, left + w - 1, top + w - 1), fill=fill)

    if state in ("ok", "handled_only"):
        d.line([p(.25, .52), p(.43, .70), p(.76, .33)], fill=fill, width=int(w), joint="curve")
        if state == "handled_only":
            d.ellipse((*p(.12, .12), *p(.88, .88)), outline=fill, width=int(max(unit, w / 2)))
    elif state == "warning":
        vbar(.5, .16, .58)
        dot(.5, .76)
    elif state == "critical":
        d.line([p(.3, .3), p(.7, .7)], fill=fill, width=int(w))
        d.line([p(.7, .3), p(.3, .7)], fill=fill, width=int(w))
    elif state == "unknown":
        d.arc((*p(.31, .14), *p(.69, .50)), start=190, end=90, fill=fill, width=int(w))
        vbar(.5, .46, .60)
        dot(.5, .78)
    else:  # no data
        top = snap(y0 + .5 * g - w / 2)
        d.rectangle((snap(x0 + .28 * g), top, snap(x0 + .72 * g) - 1, top + w - 1), fill=fill)


def _disc_mask(size: int) -> Image.Image:
    k = SUPERSAMPLE
    big = Image.new("L", (size * k, size * k), 0)
    ImageDraw.Draw(big).ellipse((0, 0, size * k - 1, size * k - 1), fill=255)
    return big.resize((size, size), Image.BOX)


def _glyph_mask(state: str, size: int, x0: float, y0: float, g: float) -> Image.Image:
    k = SUPERSAMPLE
    big = Image.new("L", (size * k, size * k), 0)
    _glyph(ImageDraw.Draw(big), state, 255, x0 * k, y0 * k, g * k, k)
    return big.resize((size, size), Image.BOX)


def _hits(mask: Image.Image, box: Iterable[int]) -> bool:
    return mask.crop(tuple(box)).getbbox() is not None


@lru_cache(maxsize=256)
def glyph_place(state: str, size: int, text: str) -> tuple[float, float, float]:
    """Where the glyph goes: (x0, y0, side). The full disc without a badge. With one: the largest
    glyph, then the one nearest the centre (moved up and left in half pixels), that keeps GAP px
    off the badge and stays inside the disc."""
    box = badge_box(text, size)
    if box is None:
        return 0.0, 0.0, float(size)
    keep_off = (max(0, box[0] - GAP), max(0, box[1] - GAP), size, size)
    outside = ImageChops.invert(_disc_mask(size).point(lambda v: 255 if v == 255 else 0))
    blank = Image.new("L", (size, size), 0)
    for g in range(size, size // 2 - 1, -1):
        centre = (size - g) / 2
        halves = range(int(centre * 2), -1, -1)                   # centre, then up/left
        spots = sorted(((h / 2, v / 2) for h in halves for v in halves),
                       key=lambda t: ((t[0] - centre) ** 2 + (t[1] - centre) ** 2, centre - t[0]))
        masks = {(fx, fy): _glyph_mask(state, size, fx, fy, g) for fx in (0, .5) for fy in (0, .5)}
        for tx, ty in spots:
            ix, iy = int(tx), int(ty)
            m = masks[(tx - ix, ty - iy)]
            if _hits(m, (keep_off[0] - ix, keep_off[1] - iy, size, size)):
                continue
            placed = blank.copy()
            placed.paste(m, (ix, iy))
            if not ImageChops.multiply(placed, outside).getbbox():
                return tx, ty, float(g)
    return 0.0, 0.0, size / 2


# -- the icon -------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def render(state: str, count: int = 0, size: int = SIZE) -> Image.Image:
    """The icon for a palette state and an unhandled-problem count, drawn at `size` px (RGBA).
    Cached: each triple is drawn once. Callers must not modify the returned image."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    if size < 8:
        raise ValueError(f"icon size {size} px is too small")
    k = SUPERSAMPLE
    text = badge_text(count, size)
    gx, gy, g = glyph_place(state, size, text)
    big = Image.new("RGBA", (size * k, size * k), (0, 0, 0, 0))
    d = ImageDraw.Draw(big)
    # The no-data grey is close to many panels' own: a darker rim keeps the disc's outline.
    rim = (158, 158, 158, 255) if state == "no_data" else None
    d.ellipse((0, 0, size * k - 1, size * k - 1), fill=colour(state) + (255,), outline=rim,
              width=k * max(1, size // 24) if rim else 0)
    _glyph(d, state, hex_rgb(palette()["text_on"][state]) + (255,), gx * k, gy * k, g * k, k)
    img = big.resize((size, size), Image.BOX)
    _draw_badge(img, text, size)
    img.info[INFO_KEY] = (state, count)
    return img


def render_like(image: Image.Image, size: int) -> Image.Image:
    """`image` drawn afresh at `size` px when it is one of ours, else scaled (keeping its aspect)."""
    key = image.info.get(INFO_KEY)
    if key is not None:
        return render(key[0], key[1], size)
    scaled = image.convert("RGBA").copy()
    scaled.thumbnail((size, size), Image.LANCZOS)
    return scaled


def slot_image(image: Image.Image, width: int, height: int,
               background: Image.Image | tuple[int, int, int]) -> Image.Image:
    """An opaque RGB picture for a tray slot of width x height: the icon as a square of the
    shorter side, centred, composited on the slot's background (a colour, or what the tray shows
    there as an RGB image of the slot's size)."""
    side = max(1, min(width, height))
    icon = render_like(image, side) if side >= 8 else image.convert("RGBA").resize((side, side), Image.LANCZOS)
    if isinstance(background, Image.Image):
        base = background.convert("RGBA")
        if base.size != (width, height):
            base = base.resize((width, height), Image.NEAREST)
    else:
        base = Image.new("RGBA", (width, height), tuple(background) + (255,))
    base.alpha_composite(icon, ((width - icon.width) // 2, (height - icon.height) // 2))
    return base.convert("RGB")


def on_canvas(image: Image.Image, side: int) -> Image.Image:
    """`image` centred on a transparent side x side square (for a host that scales whatever it is
    given to `side`: the icon keeps the size it was drawn at, the margin takes the difference)."""
    if image.size == (side, side):
        return image
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.alpha_composite(image.convert("RGBA"), ((side - image.width) // 2, (side - image.height) // 2))
    canvas.info.update(image.info)
    return canvas


FAVICON_SIZE = 32


@lru_cache(maxsize=64)
def _favicon(state: str, count: int) -> bytes:
    import io
    buf = io.BytesIO()
    render(state, count, FAVICON_SIZE).save(buf, "PNG")
    return buf.getvalue()


def favicon_png(query: str, snapshot) -> bytes:  # type: ignore[no-untyped-def]
    """The dashboard's tab icon: the tray icon of `state` and `count` from the query string (the page
    asks for its live state: ?state=critical&count=2), else of `snapshot`, as a 32 px PNG."""
    from urllib.parse import parse_qs
    q = parse_qs(query)
    state = (q.get("state") or [""])[0]
    count = (q.get("count") or [""])[0]
    if state not in STATES:
        return _favicon(snapshot.state, snapshot.counts.problems)
    return _favicon(state, min(int(count), 999) if count.isdigit() else 0)


def app_icon(size: int = 128) -> Image.Image:
    """The application's own icon (desktop entry, pop-ups without a state): a slate disc with two
    lines, the second one lit in the ok colour."""
    k = SUPERSAMPLE
    big = Image.new("RGBA", (size * k, size * k), (0, 0, 0, 0))
    d = ImageDraw.Draw(big)
    s = size * k
    d.ellipse((0, 0, s - 1, s - 1), fill=(38, 50, 56, 255))
    w = max(k, round(s * 0.12))
    d.rounded_rectangle((s * .24, s * .33, s * .76, s * .33 + w), radius=w // 2, fill=(176, 190, 197, 255))
    d.rounded_rectangle((s * .24, s * .57, s * .76, s * .57 + w), radius=w // 2, fill=colour("ok") + (255,))
    return big.resize((size, size), Image.BOX)


def icon_for(snapshot) -> Image.Image:
    return render(snapshot.state, snapshot.counts.problems)
