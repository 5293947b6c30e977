"""Small parsing helpers shared by source modules (pure)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Collection
from urllib.parse import urlsplit

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: Any) -> datetime | None:
    """RFC 3339 / ISO 8601 (Go's nanoseconds and 'Z' included) -> aware UTC, else None.
    Naive times are taken as UTC; Go's zero time ("0001-01-01...") means unset."""
    if not isinstance(text, str) or not text:
        return None
    t = _FRACTION.sub(r"\1", text.strip())
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(t)
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    ts = ts.astimezone(timezone.utc)
    return None if ts.year <= 1 else ts


def check_http_url(value: str | None, key: str = "url") -> None:
    """Settings validation: raise ValueError("KEY: ...") unless an http(s) URL (None passes)."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"{key}: must start with http:// or https://")


def api_base(url: str, cut_at: tuple[str, ...] = ()) -> str:
    """The base address from any form a user may paste: no query, no fragment, no trailing slash, and
    cut before the first of `cut_at` (API or UI paths such as "/api/v2", "/#/") that appears in it."""
    base = url.strip()
    for marker in cut_at:
        at = base.find(marker)
        if at != -1:
            base = base[:at]
    base = base.split("#", 1)[0].split("?", 1)[0]
    return base.rstrip("/")


def cut_path(url: str, segments: Collection[str]) -> str:
    """The base address from any form a user may paste, judged on the path alone (a host name such as
    `alerts.example.com` never cuts): no query, no fragment, no trailing slash, and the path cut before
    the first of `segments` (route names such as "api", "graph") that is a whole segment of it."""
    parts = urlsplit(url.strip())
    kept = []
    for segment in (s for s in parts.path.split("/") if s):
        if segment in segments:
            break
        kept.append(segment)
    return f"{parts.scheme}://{parts.netloc}" + "".join("/" + s for s in kept)
