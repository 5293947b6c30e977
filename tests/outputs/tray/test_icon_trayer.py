"""The real tray icon under Xvfb with a real tray host (trayer): screenshots of the screen show the
icon's colour following the health in /status.json through the demo scenario."""
from __future__ import annotations

import time

import pytest

from support.e2e import ARTIFACTS, Desktop, clean_env, colour_counts, palette
from support.dbus import FakeNotifyd, PrivateBus
from support.xvfb import Trayer, Xvfb, screenshot, window_titles

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

# The demo's states in order: ok -> warning -> critical -> handled only -> unknown -> ok.
STATES = ("ok", "warning", "critical", "handled_only", "unknown")
SETTLE = 1.0   # seconds a state has been served before its screenshot (the icon follows the store)


@pytest.fixture
def tray_desktop(tmp_path):
    """A fresh display and tray host for this test alone (a shared trayer carries the docking
    history of the other tests' icons), plus a private bus with the fake notification service."""
    with Xvfb() as xvfb, Trayer(xvfb) as trayer, PrivateBus(tmp_path) as bus, \
            FakeNotifyd(bus, tmp_path / "notifications.jsonl") as notifyd:
        yield Desktop(xvfb=xvfb, trayer=trayer, bus=bus, notifyd=notifyd)


def test_tray_icon_colour_follows_health(tray_desktop, run_app, home):
    desktop = tray_desktop
    pal = palette()
    colours = {k: v for k, v in pal.items() if isinstance(v, str) and v.startswith("#")}
    assert set(STATES) <= set(colours)
    out_dir = ARTIFACTS / "tray"
    app = run_app(["run", "--demo"], clean_env(home, **desktop.env))
    app.wait_output("tray icon shown", timeout=15)

    first_seen: dict[str, float] = {}
    shots: dict[str, dict[str, int]] = {}
    titles: dict[str, tuple[list[str], str]] = {}
    deadline = time.monotonic() + 45   # the scenario's cycle is 24 s
    while len(shots) < len(STATES) and time.monotonic() < deadline:
        state = app.status()["state"]
        now = time.monotonic()
        if state in STATES and state not in shots:
            first_seen.setdefault(state, now)
            if now - first_seen[state] >= SETTLE:
                path = screenshot(desktop.xvfb.display, out_dir / f"tray-{state}.png")
                names = window_titles(desktop.xvfb.display, "secondline")
                doc = app.status()
                if doc["state"] == state:          # still that state after the shot
                    shots[state] = colour_counts(path, colours)
                    titles[state] = (names, doc["summary"])
        time.sleep(0.1)

    assert set(shots) == set(STATES), f"states captured: {sorted(shots)}\n{app.output()}"
    assert desktop.trayer.proc.poll() is None, "trayer died during the test"
    for state, counts in shots.items():
        # The icon is a disc of the state's colour: hundreds of its pixels (about 300 at trayer's
        # 32 px), and every other state colour at most a few anti-aliased edge pixels.
        assert counts[state] >= 100, (f"tray-{state}.png: the icon is not {colours[state]}", counts)
        for other, n in counts.items():
            if other != state:
                assert n < counts[state] / 10, (f"tray-{state}.png shows {other}", counts)
        # The tooltip (the icon window's name on X) is the one-line summary of the same state.
        names, summary = titles[state]
        assert summary in names, (state, names, summary)
    assert app.stop() == 0
