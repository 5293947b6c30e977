"""The popup's action controls in real Chromium and Firefox, on an exact document from the fake tray: which buttons each
source type gets, "new" marks, Trello card links, held-back notifications, the hint when not paired, a
failure the tray answers without JSON shown inline, and what the browser really sends (a signature made with
its key but never the key, JSON, the extension's Origin), including "seen" when the popup opens and a new card
linked at once; an answer the tray did not sign (an impostor on the port) is shown as such, not believed."""
from __future__ import annotations

import json

import pytest

from tray.outputs.http import signing

from support.browsers import artifact
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
    # What each type offers with a Trello board configured (tray.sources.offered_actions).
    types = {"icinga-production": ("icinga2", ["acknowledge", "recheck", "trello"]),
             "icinga-staging": ("alertmanager", ["acknowledge", "trello"]),
             "icinga-integration": ("prometheus", ["trello"])}
    for s in d["sources"]:
        s["type"], s["capabilities"] = types[s["name"]]
    return d


def posts(tray: FakeTray, path: str) -> list[dict]:
    return [e for e in tray.events("post") if e["path"] == path]


def buttons(page, source: str, alert_id: str) -> list[str]:
    return page.all(f'section.source[data-source="{source}"] li[data-alert-id="{alert_id}"] button',
                    "bs => bs.map(b => b.textContent)")


PAIRED = "chrome.storage.local.set({pairing: {client: 'c-1', key: 'key-1-0123456789', pairedAt: '2026-11-26T18:00:00Z'}})"


def test_popup_action_controls_per_source_type(browser, artifacts):
    with FakeTray(doc=actions_document()) as tray:
        tray.keys["c-1"] = "key-1-0123456789"
        browser.set_port(tray.port)
        browser.wait_badge("4", PALETTE["critical"])

        # Not paired: a hint, no buttons; marks, card links and held notifications are shown all the same.
        page = browser.page("popup.html", width=380, height=700)
        page.wait("#sources section")
        page.wait("#pair-hint")
        assert page.text("#pair-hint-text") == "Pair in Options to act on alerts."
        assert page.count("button:not(#grant)") == 0
        assert page.hidden("#snooze-controls")
        new = 'li[data-alert-id="icinga-production-1"]'
        assert page.attr(new, "class") == "new"
        assert page.text(f"{new} .new-mark").lower() == "new"
        assert page.count(".new-mark") == 1
        card = 'li[data-alert-id="icinga-production-2"] a.card'
        assert [page.text(card), page.attr(card, "href"), page.attr(card, "target")] == \
            ["Trello card", "https://trello.com/c/abc123", "_blank"]
        assert page.text("#held summary") == "2 notifications held back"
        texts = "es => es.map(e => e.textContent)"
        assert page.all("#held li .title", texts) == ["db02: disk WARNING", "web01: http CRITICAL"]
        assert page.all("#held li .detail", texts) == ["snoozed", "off shift"]

        # Paired: buttons by what each source offers (its capabilities in the document).
        page.evaluate(PAIRED)
        page.wait("#snooze-controls", timeout=5)
        assert page.hidden("#pair-hint")
        assert buttons(page, "icinga-production", "icinga-production-1") == ["Ack", "Recheck", "Trello"]
        assert buttons(page, "icinga-production", "icinga-production-2") == ["Ack", "Recheck"]   # has a card
        assert buttons(page, "icinga-production", "icinga-production-3") == []                 # handled
        assert buttons(page, "icinga-staging", "icinga-staging-1") == ["Ack", "Trello"]
        assert buttons(page, "icinga-integration", "icinga-integration-1") == ["Trello"]
        assert page.all("#snooze-controls button", "bs => bs.map(b => b.innerText)") == ["15 min", "1 h", "End of shift"]
        page.screenshot(artifact(artifacts, "extension-popup-actions", browser))

        # Keyboard: Tab reaches the first alert's Ack button, Enter presses it; the fake tray has no
        # actions (HTTP 501, not JSON), and that failure is shown under the alert and in the status line.
        for _ in range(30):
            page.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == \
                    "Acknowledge: icinga-production problem 1 (critical)":
                break
        else:
            pytest.fail("Tab never reached the Ack button")
        page.press("Enter")
        row = 'li[data-alert-id="icinga-production-1"]'
        page.wait_text(f"{row} .result.failed", "HTTP 501 from the tray")
        page.wait_text("#action-result", "Acknowledge failed", contains=True)
        # Keyboard focus comes back to the same button of the re-rendered row; the pairing is kept (not a 401).
        assert page.evaluate("document.activeElement.dataset.action") == "acknowledge"
        assert page.evaluate("chrome.storage.local.get('pairing')")["pairing"]["client"] == "c-1"
        # A re-render from a new document keeps the result.
        again = actions_document()
        again["notifications"]["held"].append({"at": "2026-11-26T18:10:00Z", "title": "x", "reason": "snoozed"})
        tray.set(again)
        page.wait_text("#held summary", "3 notifications held back")
        page.wait_text(f"{row} .result.failed", "HTTP 501 from the tray")


def check_signed(post: dict, key: str) -> None:
    """The request is signed with `key` exactly as the tray verifies it, and the key itself is not in it."""
    auth = post["headers"]["authorization"]
    parts = signing.parse_authorization(auth)
    assert parts is not None and parts.client == "c-xyz", auth
    body = post["body"].encode()
    assert signing.sign_request(key, "POST", post["path"], "c-xyz", body, ts=parts.ts, nonce=parts.nonce) == auth
    assert key not in json.dumps(post)


def test_popup_requests_are_signed_and_link_a_new_card(browser):
    key = "key-xyz-0123456789"
    with FakeTray(doc=actions_document()) as tray:
        tray.keys["c-xyz"] = key
        tray.answers["/actions/seen"] = (200, {"ok": True})
        tray.answers["/actions/trello"] = (200, {"ok": True, "card_url": "https://trello.com/c/new1"})
        browser.set_port(tray.port)
        browser.wait_badge("4", PALETTE["critical"])
        setup = browser.page("options.html")
        setup.evaluate(f"chrome.storage.local.set({{pairing: {{client: 'c-xyz', key: '{key}', "
                       "pairedAt: '2026-11-26T18:00:00Z'}})")

        page = browser.page("popup.html", width=380, height=700)
        page.wait("#snooze-controls:not([hidden])")
        # Opening the popup marks the alerts seen.
        seen = wait_for(lambda: posts(tray, "/actions/seen"), timeout=5, what="POST /actions/seen")
        assert len(seen) == 1, tray.events("post")
        h = seen[0]["headers"]
        check_signed(seen[0], key)
        assert h["content-type"] == "application/json"
        assert h["origin"] == browser.origin    # chrome-extension://ID, moz-extension://UUID

        row = 'section.source[data-source="icinga-integration"] li[data-alert-id="icinga-integration-1"]'
        page.click(f"{row} button[data-action=trello]")
        page.wait_text(f"{row} .result.ok", "Recorded on Trello")
        wait_for(lambda: page.attr(f"{row} a.card", "href") == "https://trello.com/c/new1", timeout=5,
                 what="the new card's link")
        trello = posts(tray, "/actions/trello")
        assert len(trello) == 1
        assert json.loads(trello[0]["body"]) == {"source": "icinga-integration", "id": "icinga-integration-1"}
        check_signed(trello[0], key)
        # The key never leaves the browser: not in a header, a body or a URL.
        assert all(key not in json.dumps(e) for e in tray.events("post"))

        # The same answer, unsigned (something else on the port): shown as not the tray, nothing believed.
        del tray.keys["c-xyz"]
        row2 = 'section.source[data-source="icinga-staging"] li[data-alert-id="icinga-staging-1"]'
        page.click(f"{row2} button[data-action=trello]")
        page.wait_text(f"{row2} .result.failed", f"127.0.0.1:{tray.port} is not the secondline tray", contains=True)
        assert page.count(f"{row2} a.card") == 0
        assert page.evaluate("chrome.storage.local.get('pairing')")["pairing"]["client"] == "c-xyz"


def test_an_older_tray_gets_no_action_buttons_and_the_popup_says_why(browser):
    """A tray of status schema 1 does not say what can be done to its alerts: the popup shows its alerts and
    colours as usual, offers no alert action (rather than guessing by source type), and says to update it."""
    older = document({"icinga-production": [alert("icinga-production", 1, "critical")]}, schema=1)
    assert all("capabilities" not in s for s in older["sources"])
    with FakeTray(doc=older) as tray:
        tray.keys["c-1"] = "key-1-0123456789"
        browser.set_port(tray.port)
        browser.wait_badge("1", PALETTE["critical"])
        page = browser.page("popup.html", width=380, height=700)
        page.evaluate(PAIRED)
        page.wait("#snooze-controls:not([hidden])", timeout=5)
        page.wait("#older:not([hidden])", timeout=5)
        assert "older secondline" in page.text("#older") and "update it" in page.text("#older")
        assert buttons(page, "icinga-production", "icinga-production-1") == []
        # The same alert from a current tray gets its buttons, and the line goes.
        tray.set(document({"icinga-production": [alert("icinga-production", 1, "critical")]}))
        wait_for(lambda: buttons(page, "icinga-production", "icinga-production-1") == ["Ack", "Recheck"] or None,
                 timeout=10, what="the buttons of a schema 2 document")
        assert page.hidden("#older")
