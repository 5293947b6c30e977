"""The options page in real Chromium and Firefox: the port set there takes effect at once; a bad port is refused;
the split-icon and notification toggles are stored in chrome.storage.sync."""
from __future__ import annotations

import json
import time

import pytest

from .conftest import LIVE, PALETTE, wait_for
from .fake_tray import FakeTray, demo_step

pytestmark = pytest.mark.slow


def test_options_page_changes_the_port_at_once(browser):
    with FakeTray(doc=demo_step("warning")) as first, FakeTray(doc=demo_step("critical")) as second:
        page = browser.page("options.html", width=700, height=600)
        page.wait("body[data-ready='1']", state="attached")
        assert page.value("#port") == "17474"   # the default

        page.fill("#port", str(first.port))
        browser.wait_badge("1", PALETTE["warning"], timeout=5)

        t0 = time.monotonic()
        page.fill("#port", str(second.port))
        browser.wait_badge("2", PALETTE["critical"], timeout=LIVE)
        print(f"port change -> badge from the new tray after {time.monotonic() - t0:.3f}s")
        assert page.evaluate("chrome.storage.sync.get('port')") == {"port": second.port}
        # The new tray's stream is the live one: a change there shows at once.
        second.set(demo_step("ok"))
        browser.wait_badge("", PALETTE["ok"], timeout=LIVE)

        # A wrong port is refused with a message and not stored.
        page.fill("#port", "99999")
        page.wait_text("#port-error", "1 to 65535", contains=True)
        assert page.evaluate("chrome.storage.sync.get('port')") == {"port": second.port}

        # Reloaded, the page shows what is stored.
        page.reload()
        page.wait("body[data-ready='1']", state="attached")
        assert page.value("#port") == str(second.port)


def test_options_split_icon_and_notification_toggles_are_stored(browser):
    with FakeTray(doc=demo_step("critical")) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("2", PALETTE["critical"])
        page = browser.page("options.html", width=700, height=600)
        page.wait("body[data-ready='1']", state="attached")
        # Off by default: the tray already notifies.
        assert page.checked("#notifications") is False
        assert page.checked("#splitIcon") is True
        # The table lists the groups the tray reported, plus "any other group".
        rows = page.all("#notify-table tbody th", "ths => ths.map(t => t.textContent)")
        assert rows == ["production", "staging", "integration", "Any other group"]
        page.set_checked("#splitIcon", False)
        page.set_checked("#notifications", True)
        page.set_checked('#notify-table input[data-group="production"][data-state="critical"]', True)
        # Each change saves asynchronously: wait for the last one to land before reading the whole store.
        def saved() -> dict | None:
            stored = page.evaluate("chrome.storage.sync.get(null)")
            return stored if stored.get("notify", {}).get("production", {}).get("critical") else None
        stored = wait_for(saved, timeout=5, step=0.02, what="the production toggle saved")
        assert stored["splitIcon"] is False
        assert stored["notifications"] is True
        assert stored["notify"]["production"]["critical"] is True
        assert stored["notify"]["staging"]["critical"] is False


def test_browser_notification_for_a_switched_on_group_state(browser):
    """Off by default; switched on for production x critical, a change to critical raises one notification
    whose click target is that alert's web UI (never on the first reading, nothing for other states)."""
    with FakeTray(doc=demo_step("ok")) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("", PALETTE["ok"])
        tray.set(demo_step("warning"))
        browser.wait_badge("1", PALETTE["warning"])
        assert browser.ext_eval("chrome.notifications.getAll()") == {}   # off by default

        browser.ext_eval("chrome.storage.sync.set({notifications: true, notify: {production: {critical: true}}})")
        tray.set(demo_step("critical"))
        browser.wait_badge("2", PALETTE["critical"])
        shown = wait_for(lambda: browser.ext_eval("chrome.notifications.getAll()"), timeout=5, what="a notification")
        assert len(shown) == 1
        # [[notification id, url]], oldest first (lib/links.js): the click target of the one shown.
        links = browser.ext_eval("chrome.storage.session.get('links').then(r => r.links)")
        assert links == [[next(iter(shown)), "https://monitor.example/icinga-production/1"]]
        # Back to ok: not switched on, so nothing new.
        tray.set(demo_step("ok"))
        browser.wait_badge("", PALETTE["ok"])
        time.sleep(0.5)
        assert len(browser.ext_eval("chrome.notifications.getAll()")) == 1
        # Closed (here by clear(), as after a click): its link goes with it, so the map cannot grow for ever.
        browser.ext_eval(f"chrome.notifications.clear({json.dumps(next(iter(shown)))})")
        wait_for(lambda: browser.ext_eval("chrome.storage.session.get('links').then(r => r.links)") == [],
                 timeout=5, what="the closed notification's link dropped")
