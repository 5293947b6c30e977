"""What the browser tests share (the extension's, and the dashboard's in tests/outputs/http): paths, the
palette, Debian's Chromium and its arguments, the live-change bound, polling."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
PALETTE = json.loads((REPO / "shared" / "palette.json").read_text())
# Bound for a change delivered over the live /events stream. The other ways a change reaches the badge (the
# 30 s alarm backstop, a restarted worker's first poll) take longer, so a test staying under it shows the
# stream did the work. The 2 s target itself is a benchmark (bench/badge_lag.py prints the figures): a
# test asserting it would fail on a busy machine without anything being wrong.
LIVE = 10.0
# The one origin the extension reads (extension/lib/access.js TRAY_ORIGINS).
TRAY_ORIGINS = ["http://127.0.0.1/*"]

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def wait_for(fn: Callable[[], Any], timeout: float = 15, step: float = 0.05, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
        except Exception as e:  # the worker may be restarting: keep trying until the deadline
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value {last!r}")


def hex_colour(rgba: list[int]) -> str:
    return "#%02x%02x%02x" % tuple(rgba[:3])


def artifact(directory: Path, name: str, browser: Any) -> Path:
    """artifacts/NAME.png for Chromium (the names the READMEs cite), NAME-firefox.png for Firefox."""
    suffix = "" if browser.name == "chromium" else f"-{browser.name}"
    return directory / f"{name}{suffix}.png"
