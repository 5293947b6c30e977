"""The popup page in real Chromium and Firefox: groups as tiles in palette colours, alerts by source newest first with
their web UI links, handled ones collapsed, unreachable sources with their reason, shift line and team links,
live update while open, keyboard reachable, dark mode; screenshots saved under artifacts/."""
from __future__ import annotations

import pytest

from support.browsers import artifact
from .conftest import PALETTE, wait_for
from datetime import datetime, timedelta, timezone

from .fake_tray import FakeTray, alert, demo_step, document, iso

pytestmark = pytest.mark.slow


def rich_document() -> dict:
    return document(
        {
            "icinga-production": [
                alert("icinga-production", 1, "critical", minutes_ago=30),
                alert("icinga-production", 2, "critical", minutes_ago=2),
                alert("icinga-production", 3, "warning", minutes_ago=10, url="javascript:alert(1)"),
                alert("icinga-production", 4, "critical", handled="acknowledged", minutes_ago=60),
            ],
            "icinga-staging": [alert("icinga-staging", 1, "warning", minutes_ago=5)],
        },
        errors={"icinga-integration": "HTTP 503 from https://icinga-int.example"},
        links=[{"title": "Grafana", "url": "https://grafana.example/d/1", "group": "production"},
               {"title": "Bad", "url": "javascript:alert(2)", "group": None}],
        shift={"on_shift": True, "text": "On shift until 18:00 UTC"},
        notifications={"snoozed_until": iso(datetime.now(timezone.utc) + timedelta(hours=1))},
    )


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb(%d, %d, %d)" % (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def test_popup_renders_groups_alerts_and_links(browser, artifacts):
    with FakeTray(doc=rich_document()) as tray:
        browser.set_port(tray.port)
        browser.wait_badge("5", PALETTE["critical"])
        page = browser.page("popup.html", width=380, height=640)
        page.wait("#tiles article")

        # Overall state and one tile per group, coloured from the shared palette, counted and named in the
        # words of shared/vocabulary.json (the tray's menu and dashboard say the same).
        assert page.attr("#overall", "data-state") == "critical"
        assert page.text("#headline") == "2 critical, 1 unknown, 2 warning, 1 handled"
        tiles = page.all(
            "#tiles article", "ts => ts.map(t => [t.querySelector('h2').textContent, t.dataset.state, "
            "getComputedStyle(t).backgroundColor, [...t.querySelectorAll('dd')].map(d => d.textContent)])")
        assert tiles == [
            ["production", "critical", rgb(PALETTE["critical"]), ["2", "0", "1", "1"]],
            ["staging", "warning", rgb(PALETTE["warning"]), ["0", "0", "1", "0"]],
            ["integration", "unknown", rgb(PALETTE["unknown"]), ["0", "1", "0", "0"]],
        ]
        assert page.all("#tiles article:first-child dt", "ds => ds.map(d => d.textContent)") == \
            ["Critical", "Unknown", "Warning", "Handled"]
        assert page.all("#tiles article .state", "ps => ps.map(p => p.textContent)") == \
            ["Critical", "Warning", "Unknown"]

        # Alerts of a source, newest first, each title linking to its web UI in a new tab.
        prod = 'section.source[data-source="icinga-production"]'
        open_ids = page.all(f"{prod} ul.open li", "ls => ls.map(l => l.dataset.alertId)")
        assert open_ids == ["icinga-production-2", "icinga-production-3", "icinga-production-1"]
        links = page.all(f"{prod} ul.open a.title", "as => as.map(a => [a.textContent, a.href, a.target])")
        assert links == [
            ["icinga-production problem 2 (critical)", "https://monitor.example/icinga-production/2", "_blank"],
            ["icinga-production problem 1 (critical)", "https://monitor.example/icinga-production/1", "_blank"],
        ]
        # A javascript: URL from the document is shown as text, never as a link.
        assert page.count(f'{prod} li[data-alert-id="icinga-production-3"] a') == 0
        # Handled alerts are collapsed.
        details = f"{prod} details.handled"
        assert page.text(f"{details} summary") == "1 handled"
        assert page.all(details, "ds => ds.map(d => d.open)") == [False]
        assert page.hidden(f"{details} li")

        # An unreachable source shows its reason.
        assert page.text('section.source[data-source="icinga-integration"] .problem') == \
            "cannot be read: HTTP 503 from https://icinga-int.example"
        # A handled alert says so in the same words as the tray's menu and dashboard.
        assert page.attr(f'{prod} li[data-alert-id="icinga-production-4"]', "data-tag") == "handled (acknowledged)"
        assert "handled (acknowledged)" in page.text_content(f'{prod} li[data-alert-id="icinga-production-4"] .detail')
        assert page.text('section.source[data-source="icinga-staging"] .alerts li .title') == \
            "icinga-staging problem 1 (warning)"
        # Shift line, team links (unsafe one dropped), dashboard link on the configured port.
        assert page.text("#shift") == "On shift until 18:00 UTC"
        assert page.text("#snooze").startswith("Notifications snoozed until")
        assert page.all("#links a", "as => as.map(a => [a.textContent, a.href])") == [
            ["Grafana (production)", "https://grafana.example/d/1"]]
        assert page.attr("#dashboard", "href") == f"http://127.0.0.1:{tray.port}/"
        shot = artifact(artifacts, "extension-popup", browser)
        page.screenshot(shot)

        # Keyboard: Tab reaches the alert links in order.
        focused = []
        for _ in range(3):
            page.press("Tab")
            focused.append(page.evaluate("document.activeElement.textContent"))
        assert "icinga-production problem 2 (critical)" in focused

        # Live: a change in the tray re-renders the open popup without a reload.
        tray.set(demo_step("ok"))
        page.wait("#overall[data-state=ok]", timeout=5)
        assert page.count("#tiles article[data-state=ok]") == 3

        # Dark mode follows the system preference.
        tray.set(rich_document())
        page.wait("#overall[data-state=critical]", timeout=5)
        page.color_scheme("dark")
        wait_for(lambda: page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(31, 31, 31)",
                 timeout=5, what="the dark background")
        page.screenshot(artifact(artifacts, "extension-popup-dark", browser))
    assert shot.stat().st_size > 5000


def test_popup_when_the_tray_is_not_running(browser, artifacts):
    with FakeTray() as tray:
        port = tray.port
    browser.set_port(port)
    browser.wait_badge("?", PALETTE["no_data"])
    page = browser.page("popup.html", width=380, height=300)
    page.wait("#message:not([hidden])")
    assert page.text("#headline") == "Tray not reachable"
    assert f"127.0.0.1:{port}" in page.text("#message")
    assert "secondline run" in page.text("#message")
    assert page.hidden("#access")   # the browser lets it read 127.0.0.1: nothing to allow
    page.screenshot(artifact(artifacts, "extension-popup-unreachable", browser), full_page=False)


def test_split_icon_drawn_with_offscreen_canvas_in_the_browser(browser):
    """The icon code draws the blinken layout with real OffscreenCanvas pixels in the shared palette."""
    page = browser.page("popup.html")
    pixels = page.evaluate("""async () => {
        const { iconBlocks, drawIcon } = await import('./lib/icon.js');
        const palette = await (await fetch('shared/palette.json')).json();
        const c = new OffscreenCanvas(32, 32); const ctx = c.getContext('2d');
        drawIcon(ctx, iconBlocks(['critical', 'warning', 'handled_only'], 32), palette, 32);
        const at = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
        return { top: at(16, 5), left: at(5, 25), right: at(26, 25) };
    }""")
    to_hex = lambda p: "#%02x%02x%02x" % tuple(p)  # noqa: E731
    assert {k: to_hex(v) for k, v in pixels.items()} == {
        "top": PALETTE["critical"], "left": PALETTE["warning"], "right": PALETTE["handled_only"]}
