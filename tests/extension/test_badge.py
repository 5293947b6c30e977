"""The toolbar badge in real headless Chromium and Firefox, against the fake tray (exact documents, fast):
states and colours, tooltip, '?' when the tray stops and recovery when it comes back, '!' for a newer schema."""
from __future__ import annotations

import time

import pytest

from .conftest import LIVE, PALETTE, wait_for
from .fake_tray import FakeTray, demo_step, document

pytestmark = pytest.mark.slow

# state -> badge text for fake_tray.demo_step documents
STEPS = [("ok", ""), ("warning", "1"), ("critical", "2"), ("handled_only", ""), ("unknown", "1")]


def test_badge_follows_each_state_with_its_colour_and_tooltip(browser):
    with FakeTray(doc=demo_step("ok")) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("", PALETTE["ok"])
        lags = {}
        for state, text in STEPS[1:]:
            t0 = time.monotonic()
            tray.set(demo_step(state))
            lags[state] = browser.wait_badge(text, PALETTE[state], timeout=LIVE) - t0
        print("badge lag over /events (s):", {k: round(v, 3) for k, v in lags.items()})
        expected = [
            "secondline: 1 unknown",
            "production: All OK",
            "staging: All OK",
            "integration: 1 unknown — icinga-integration cannot be read: connection refused",
        ]
        browser.wait_title(lambda t: t.splitlines() == expected, f"{expected!r}")
        # Badge text colour follows the palette's text_on too (white on the dark colours).
        tray.set(demo_step("critical"))
        browser.wait_badge("2", PALETTE["critical"], timeout=LIVE)
        wait_for(lambda: browser.badge_text_colour() == "#ffffff", timeout=5, step=0.01, what="white badge text")


def test_tray_stopped_shows_question_mark_and_restart_recovers(browser):
    tray = FakeTray(doc=demo_step("critical")).start()
    port = tray.port
    browser.set_port(port)
    browser.wait_badge("2", PALETTE["critical"])
    tray.stop()
    t0 = time.monotonic()
    browser.wait_badge("?", PALETTE["no_data"], timeout=10)
    print(f"tray stopped -> '?' after {time.monotonic() - t0:.2f}s")
    browser.wait_title(lambda t: f"127.0.0.1:{port}" in t and "secondline run" in t,
                       f"naming 127.0.0.1:{port} and 'secondline run'")
    # Back on the same port: the worker's retry finds it and reopens the stream.
    tray = FakeTray(port=port, doc=demo_step("warning")).start()
    try:
        t0 = time.monotonic()
        # Recovery comes from the worker's retry (<= 5 s apart) or, failing that, the 30 s alarm
        # backstop (+ a poll of up to 5 s, + a loaded CI box): the bound covers both, the print shows which.
        browser.wait_badge("1", PALETTE["warning"], timeout=45)
        print(f"tray restarted -> badge back after {time.monotonic() - t0:.2f}s")
        wait_open = time.monotonic() + 5
        while not tray.events("events_open") and time.monotonic() < wait_open:
            time.sleep(0.05)
        assert tray.events("events_open"), "the stream was not reopened"
        t0 = time.monotonic()
        tray.set(demo_step("ok"))
        browser.wait_badge("", PALETTE["ok"], timeout=LIVE)
    finally:
        tray.stop()


def test_newer_schema_shows_bang_and_never_its_colour(browser):
    with FakeTray(doc=demo_step("warning")) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("1", PALETTE["warning"])
        newer = document(schema=3)
        newer.update(health="critical", counts={"critical": 3, "warning": 0, "unknown": 0, "handled": 0, "pending": 0})
        tray.set(newer)
        browser.wait_badge("!", PALETTE["no_data"], timeout=LIVE)
        browser.wait_title(lambda t: "schema 3" in t and "Update" in t, "naming schema 3 and 'Update'")
        broken = demo_step("ok")
        del broken["groups"]
        tray.set(broken)
        time.sleep(0.5)
        assert browser.badge() == ("!", PALETTE["no_data"])
        browser.wait_title(lambda t: 'missing "groups"' in t, "naming the missing groups")
