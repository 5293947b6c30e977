"""The badge keeps following the tray when the MV3 service worker is stopped, and after the browser idles.

Playwright's debugger connection switches the worker's idle timeout off (measured), so it cannot show worker
death by itself. Two tests instead:
- stop the worker over CDP (Target.closeTarget) and read the badge from an extension page, not the worker;
- run a plain `chromium --headless=new` with no debugger at all for 3 idle minutes and observe the extension
  only through the fake tray's request log and Chromium's own log (the worker logs each badge it sets).
"""
from __future__ import annotations

import time

import pytest

from .conftest import LIVE, PALETTE, read_badge, wait_for
from .fake_tray import FakeTray, demo_step
from .plain_chromium import plain_chromium, seed_port

pytestmark = pytest.mark.slow

IDLE_SECONDS = 180


def page_badge(page) -> tuple[str, str]:
    return read_badge(page)


def test_badge_follows_after_the_worker_is_stopped(browser):
    with FakeTray(doc=demo_step("ok")) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("", PALETTE["ok"])
        page = browser.page("options.html")   # reads the badge without touching the worker
        cdp = browser.ctx.browser.new_browser_cdp_session()
        targets = [t for t in cdp.send("Target.getTargets")["targetInfos"]
                   if t["type"] == "service_worker" and browser.ext_id in t["url"]]
        assert len(targets) == 1, targets
        opened_before = len(tray.events("events_open"))
        t_stop = time.monotonic()
        assert cdp.send("Target.closeTarget", {"targetId": targets[0]["targetId"]})["success"]
        wait_for(lambda: not any(t["targetId"] == targets[0]["targetId"]
                                 for t in cdp.send("Target.getTargets")["targetInfos"]),
                 timeout=5, what="the worker target to go away")

        # A change while the worker is down: picked up when the alarm restarts it (30 s backstop).
        tray.set(demo_step("critical"))
        wait_for(lambda: page_badge(page) == ("2", PALETTE["critical"]), timeout=45, step=0.1,
                 what="the restarted worker to show the change made while it was down")
        restart = time.monotonic() - t_stop
        wait_for(lambda: len(tray.events("events_open")) > opened_before, timeout=10, what="the stream to reopen")

        # And the reopened stream delivers the next change at once.
        t0 = time.monotonic()
        tray.set(demo_step("warning"))
        wait_for(lambda: page_badge(page) == ("1", PALETTE["warning"]), timeout=LIVE, step=0.01,
                 what="the next change over the reopened stream")
        print(f"worker stopped -> change seen after {restart:.1f}s; next change lag {time.monotonic() - t0:.3f}s")


@pytest.mark.timeout(IDLE_SECONDS + 180)
def test_badge_follows_after_three_idle_minutes_without_a_debugger(built_extension, playwright_instance, tmp_path):
    ext = str(built_extension["dir"])
    profile = tmp_path / "profile"
    with FakeTray(doc=demo_step("ok"), ping_every=15) as tray:
        seed_port(playwright_instance.chromium, profile, ext, tray.port,
                  before_close=lambda: wait_for(lambda: tray.events("events_open"),
                                                what="the seeding browser to connect"))

    with FakeTray(port=tray.port, doc=demo_step("ok"), ping_every=15) as tray, \
            plain_chromium(profile, ext) as (proc, log):
        log.wait_badge("", "ok", since=0, timeout=20)
        wait_for(lambda: tray.events("events_open"), what="the stream to open")
        t = tray.set(demo_step("warning"))
        first_lag = log.wait_badge("1", "warning", since=t, timeout=LIVE) - t

        time.sleep(IDLE_SECONDS)   # the browser idles: no tab activity, no extension events but the tray's

        assert proc.poll() is None, "chromium exited"
        t = tray.set(demo_step("critical"))
        seen = log.wait_badge("2", "critical", since=t, timeout=40)
        lag = seen - t
        opens, closes = tray.events("events_open"), tray.events("events_closed")
        polls = [e for e in tray.events("status") if e["t"] >= t - 0.001 and e["t"] <= seen]
        print(f"no debugger: lag before idle {first_lag * 1000:.0f} ms; after {IDLE_SECONDS}s idle "
              f"{lag * 1000:.0f} ms; /events opened {len(opens)}x, closed {len(closes)}x; "
              f"/status.json {len(tray.events('status'))}x")
        assert lag <= LIVE, f"badge followed only after {lag:.1f}s: the worker was idled out"
        # The change came over the stream that has been open since start: the worker was never stopped.
        assert len(opens) == 1 and not closes, (opens, closes)
        assert not polls, "the change was fetched by a poll, not delivered by the live stream"
