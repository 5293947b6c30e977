"""The popup's action controls in real Chromium, on an exact document from the fake tray: which buttons each
source type gets, "new" marks, Trello card links, held-back notifications, the hint when not paired, a
failure the tray answers without JSON shown inline, and what the browser really sends (token, JSON, the
extension's Origin), including "seen" when the popup opens and a new card linked at once."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import PALETTE, wait_for
from .fake_tray import FakeTray, alert, document

pytestmark = pytest.mark.slow


def actions_document() -> dict:
    d = document({
        "icinga-production": [
            {**alert("icinga-production", 1, "critical", minutes_ago=1), "new": True},
            {**alert("icinga-production", 2, "critical", minutes_ago=20), "new": False,
             "card_url": "https://trello.com/c/abc123"},
            alert("icinga-production", 3, "critical", handled="acknowledged"),
        ],
        "icinga-staging": [alert("icinga-staging", 1, "warning")],
        "icinga-integration": [alert("icinga-integration", 1, "warning")],
    }, notifications={"snoozed_until": None, "held": [
        {"at": "2026-11-26T18:00:00Z", "title": "web01: http CRITICAL", "reason": "off shift"},
        {"at": "2026-11-26T18:05:00Z", "title": "db02: disk WARNING", "reason": "snoozed"},
    ]})
    types = {"icinga-production": "icinga2", "icinga-staging": "alertmanager", "icinga-integration": "prometheus"}
    for s in d["sources"]:
        s["type"] = types[s["name"]]
    return d


def posts(tray: FakeTray, path: str) -> list[dict]:
    return [e for e in tray.events("post") if e["path"] == path]


def buttons(page, source: str, alert_id: str) -> list[str]:
    return page.locator(f'section.source[data-source="{source}"] li[data-alert-id="{alert_id}"] button').evaluate_all(
        "bs => bs.map(b => b.textContent)")


def test_popup_action_controls_per_source_type(browser, artifacts):
    with FakeTray(doc=actions_document()) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("4", PALETTE["critical"])

        # Not paired: a hint, no buttons; marks, card links and held notifications are shown all the same.
        page = browser.page("popup.html", width=380, height=700)
        page.wait_for_selector("#sources section")
        expect(page.locator("#pair-hint")).to_be_visible()
        assert page.inner_text("#pair-hint-text") == "Pair in Options to act on alerts."
        assert page.locator("button").count() == 0
        assert page.is_hidden("#snooze-controls")
        new = page.locator('li[data-alert-id="icinga-production-1"]')
        assert new.get_attribute("class") == "new"
        assert new.locator(".new-mark").inner_text().lower() == "new"
        assert page.locator(".new-mark").count() == 1
        card = page.locator('li[data-alert-id="icinga-production-2"] a.card')
        assert [card.inner_text(), card.get_attribute("href"), card.get_attribute("target")] == \
            ["Trello card", "https://trello.com/c/abc123", "_blank"]
        assert page.inner_text("#held summary") == "2 notifications held back"
        assert page.locator("#held li .title").all_text_contents() == ["db02: disk WARNING", "web01: http CRITICAL"]
        assert page.locator("#held li .detail").all_text_contents() == ["snoozed", "off shift"]

        # Paired: buttons by what each source type can do.
        page.evaluate("chrome.storage.local.set({pairing: {token: 't', pairedAt: '2026-11-26T18:00:00Z'}})")
        expect(page.locator("#snooze-controls")).to_be_visible()
        assert page.is_hidden("#pair-hint")
        assert buttons(page, "icinga-production", "icinga-production-1") == ["Ack", "Recheck", "Trello"]
        assert buttons(page, "icinga-production", "icinga-production-2") == ["Ack", "Recheck"]   # has a card
        assert buttons(page, "icinga-production", "icinga-production-3") == []                 # handled
        assert buttons(page, "icinga-staging", "icinga-staging-1") == ["Ack", "Trello"]
        assert buttons(page, "icinga-integration", "icinga-integration-1") == ["Trello"]
        assert page.locator("#snooze-controls button").all_inner_texts() == ["15 min", "1 h", "End of shift"]
        page.screenshot(path=str(artifacts / "extension-popup-actions.png"), full_page=True)

        # Keyboard: Tab reaches the first alert's Ack button, Enter presses it; the fake tray has no
        # actions (HTTP 501, not JSON), and that failure is shown under the alert and in the status line.
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == \
                    "Acknowledge: icinga-production problem 1 (critical)":
                break
        else:
            pytest.fail("Tab never reached the Ack button")
        page.keyboard.press("Enter")
        row = page.locator('li[data-alert-id="icinga-production-1"]')
        expect(row.locator(".result.failed")).to_have_text("HTTP 501 from the tray")
        expect(page.locator("#action-result")).to_contain_text("Acknowledge failed")
        # Keyboard focus comes back to the same button of the re-rendered row; the token is kept (not a 401).
        assert page.evaluate("document.activeElement.dataset.action") == "acknowledge"
        assert page.evaluate("chrome.storage.local.get('pairing')")["pairing"]["token"] == "t"
        # A re-render from a new document keeps the result.
        again = actions_document()
        again["notifications"]["held"].append({"at": "2026-11-26T18:10:00Z", "title": "x", "reason": "snoozed"})
        tray.set(again)
        expect(page.locator("#held summary")).to_have_text("3 notifications held back")
        expect(row.locator(".result.failed")).to_have_text("HTTP 501 from the tray")


def test_popup_requests_carry_the_token_and_link_a_new_card(browser, built_extension):
    with FakeTray(doc=actions_document()) as tray:
        tray.answers["/actions/seen"] = (200, {"ok": True})
        tray.answers["/actions/trello"] = (200, {"ok": True, "card_url": "https://trello.com/c/new1"})
        browser.set_port(tray.port)
        browser.wait_badge("4", PALETTE["critical"])
        setup = browser.page("options.html")
        setup.evaluate("chrome.storage.local.set({pairing: {token: 'tok-xyz', pairedAt: '2026-11-26T18:00:00Z'}})")

        page = browser.page("popup.html", width=380, height=700)
        page.wait_for_selector("#snooze-controls:not([hidden])")
        # Opening the popup marks the alerts seen.
        seen = wait_for(lambda: posts(tray, "/actions/seen"), timeout=5, what="POST /actions/seen")
        assert len(seen) == 1, tray.events("post")
        h = seen[0]["headers"]
        assert h["authorization"] == "Bearer tok-xyz"
        assert h["content-type"] == "application/json"
        assert h["origin"] == f"chrome-extension://{built_extension['id']}"

        row = page.locator('section.source[data-source="icinga-integration"] li[data-alert-id="icinga-integration-1"]')
        row.locator("button[data-action=trello]").click()
        expect(row.locator(".result.ok")).to_have_text("Recorded on Trello")
        expect(row.locator("a.card")).to_have_attribute("href", "https://trello.com/c/new1")
        trello = posts(tray, "/actions/trello")
        assert len(trello) == 1
        assert json.loads(trello[0]["body"]) == {"source": "icinga-integration", "id": "icinga-integration-1"}
        assert trello[0]["headers"]["authorization"] == "Bearer tok-xyz"
        # The token goes in the header only, never in a URL.
        assert all("tok-xyz" not in e["path"] for e in tray.events("post"))
