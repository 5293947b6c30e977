"""Snapshot state -> tray icon image (pure, cached).

Each state has its own colour (shared/palette.json) and its own glyph, so the icon reads without
colour too: ok a tick, handled-only a hollow tick, warning an exclamation mark, critical a cross,
unknown a question mark, no data a dash. The number of unhandled problems sits in a corner badge.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from tray.document import palette

SIZE = 64
STATES = ("ok", "warning", "unknown", "critical", "handled_only", "no_data")


def hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def colour(state: str) -> tuple[int, int, int]:
    return hex_rgb(palette()[state])


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:   # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _glyph(d: ImageDraw.ImageDraw, state: str, fg: tuple[int, int, int], s: int) -> None:
    w = max(3, s // 9)
    if state == "ok":
        d.line([(s * .24, s * .52), (s * .43, s * .70), (s * .76, s * .32)], fill=fg, width=w, joint="curve")
    elif state == "handled_only":
        d.line([(s * .24, s * .52), (s * .43, s * .70), (s * .76, s * .32)], fill=fg, width=w, joint="curve")
        d.ellipse((s * .14, s * .14, s * .86, s * .86), outline=fg, width=max(2, w // 2))
    elif state == "warning":
        d.line([(s * .5, s * .2), (s * .5, s * .58)], fill=fg, width=w)
        r = w * .7
        d.ellipse((s * .5 - r, s * .74 - r, s * .5 + r, s * .74 + r), fill=fg)
    elif state == "critical":
        d.line([(s * .3, s * .3), (s * .7, s * .7)], fill=fg, width=w)
        d.line([(s * .7, s * .3), (s * .3, s * .7)], fill=fg, width=w)
    elif state == "unknown":
        d.arc((s * .32, s * .16, s * .68, s * .50), start=180, end=90, fill=fg, width=w)
        d.line([(s * .5, s * .49), (s * .5, s * .62)], fill=fg, width=w)
        r = w * .7
        d.ellipse((s * .5 - r, s * .77 - r, s * .5 + r, s * .77 + r), fill=fg)
    else:  # no data
        d.line([(s * .3, s * .5), (s * .7, s * .5)], fill=fg, width=w)


@lru_cache(maxsize=128)
def render(state: str, count: int = 0, size: int = SIZE) -> Image.Image:
    """The icon for a palette state and an unhandled-problem count. Cached: each pair is drawn once.
    Callers must not modify the returned image."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    bg = colour(state)
    fg = hex_rgb(palette()["text_on"][state])
    d.ellipse((1, 1, size - 2, size - 2), fill=bg)
    _glyph(d, state, fg, size)
    if count > 0:
        text = str(count) if count < 100 else "99+"
        font = _font(int(size * (0.42 if len(text) == 1 else 0.34)))
        box = d.textbbox((0, 0), text, font=font)
        tw, th = box[2] - box[0], box[3] - box[1]
        bw = max(int(size * .46), tw + size // 8)
        bh = int(size * .42)
        x0, y0 = size - bw, size - bh
        d.rounded_rectangle((x0, y0, size - 1, size - 1), radius=bh // 2, fill=(32, 32, 32), outline=(255, 255, 255))
        d.text((x0 + (bw - tw) / 2 - box[0], y0 + (bh - th) / 2 - box[1]), text, font=font, fill=(255, 255, 255))
    return img


def icon_for(snapshot) -> Image.Image:
    return render(snapshot.state, snapshot.counts.problems)
