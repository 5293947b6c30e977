"""The extension against the real tray: `secondline run --demo --headless` on a free port.

The badge follows the demo through ok -> warning -> critical -> handled-only -> unknown with the lag
printed; stopping the tray turns it to '?', restarting recovers; the popup shows the demo's groups, alerts
and links (screenshot in artifacts/). Each test runs in Chromium and in Firefox."""
from __future__ import annotations

import time

import pytest

from support.procs import free_port

from support.browsers import artifact
from .conftest import LIVE, PALETTE, wait_for
from support.demo_tray import DemoTray, TrayWatcher, expected_badge

pytestmark = pytest.mark.slow

SEQUENCE = ["ok", "warning", "critical", "handled_only", "unknown"]
STATE_OF_COLOUR = {PALETTE[k]: k for k in (*SEQUENCE, "no_data")}


def state_of(badge: tuple[str, str]) -> str | None:
    return STATE_OF_COLOUR.get(badge[1])


@pytest.mark.timeout(180)
def test_badge_follows_the_real_tray_demo(browser, tmp_path, artifacts):
    port = free_port()
    tray = DemoTray(port, tmp_path / "tray.log").start()
    watcher = TrayWatcher(tray.url)
    try:
        browser.set_port(port)
        wait_for(lambda: browser.badge()[0] != "?", timeout=10, what="the extension to reach the tray")

        # Sample the badge until it has gone through the whole sequence in order (the demo cycles in ~24 s).
        seen: list[tuple[float, tuple[str, str]]] = []
        end = time.monotonic() + 90
        while time.monotonic() < end:
            b = browser.badge()
            if not seen or seen[-1][1] != b:
                seen.append((time.monotonic(), b))
            states = [state_of(x) for _, x in seen]
            if _contains_in_order(states, SEQUENCE):
                break
            time.sleep(0.01)
        states = [state_of(x) for _, x in seen]
        assert _contains_in_order(states, SEQUENCE), f"badge went {states}"
        # Every badge shown is what one of the tray's documents calls for (sources poll one after another,
        # so the tray also passes through in-between documents, e.g. "1" on critical).
        sent = {b for _, b in _changes(watcher.docs)} | {("", PALETTE["no_data"])}
        assert not [b for _, b in seen if b not in sent], (seen, sent)

        # Lag: from the tray's own /events message to the badge showing it.
        lags = []
        changes = _changes(watcher.docs)
        for t_tray, badge in changes:
            shown = [t for t, b in seen if b == badge and t >= t_tray - 0.005]
            if shown and seen[0][0] <= t_tray:
                lags.append((state_of(badge), shown[0] - t_tray))
        print("badge lag behind the tray (s):", [(s, round(x, 3)) for s, x in lags])
        assert len(lags) >= 4, (changes, seen)
        assert max(x for _, x in lags) <= LIVE, lags

        # The tooltip names every group of the demo.
        browser.wait_title(lambda t: all(f"\n{g}: " in t for g in ("production", "staging", "integration")),
                           "naming every group")

        # Stop the tray: '?' on grey. Start it again on the same port: the badge recovers by itself.
        watcher.close()
        t0 = time.monotonic()
        tray.stop()
        browser.wait_badge("?", PALETTE["no_data"], timeout=10)
        print(f"tray stopped -> '?' after {time.monotonic() - t0:.2f}s")
        browser.wait_title(lambda t: "secondline run" in t, "naming 'secondline run'")
        tray.start()
        t0 = time.monotonic()
        wait_for(lambda: state_of(browser.badge()) in SEQUENCE, timeout=15, what="the badge to recover")
        print(f"tray restarted -> badge {browser.badge()} after {time.monotonic() - t0:.2f}s")
    finally:
        watcher.close()
        tray.stop()


def test_popup_shows_the_demo(browser, tmp_path, artifacts):
    port = free_port()
    with DemoTray(port, tmp_path / "tray.log") as tray:
        browser.set_port(port)
        page = browser.page("popup.html", width=380, height=640)
        # The demo reaches its critical step ~8 s after start; the open popup updates live.
        page.wait("#overall[data-state=critical]", timeout=30)
        tiles = page.all("#tiles article", "ts => ts.map(t => [t.querySelector('h2').textContent, t.dataset.state])")
        assert tiles == [["production", "critical"], ["staging", "warning"], ["integration", "ok"]]
        link = 'section.source[data-source="demo-production"] ul.open a.title'
        assert page.text(link) == "web01: http"
        assert page.attr(link, "href") == \
            "https://monitoring.example.com/icingaweb2/icingadb/service?name=http&host.name=web01"
        assert page.text('section.source[data-source="demo-staging"] ul.open a.title') == \
            "app-staging-1: disk /var"
        assert page.attr("#dashboard", "href") == f"{tray.url}/"
        assert "Declare an incident (manual)" in page.text("#links")
        page.screenshot(artifact(artifacts, "extension-popup-demo", browser))
        # Next step: the critical is acknowledged -> collapsed under "handled", production dark green.
        page.wait("#overall[data-state=handled_only]", timeout=10)
        assert page.text('section.source[data-source="demo-production"] details.handled summary') == "1 handled"


def _contains_in_order(states: list[str | None], wanted: list[str]) -> bool:
    it = iter(states)
    return all(any(s == w for s in it) for w in wanted)


def _changes(docs):
    out = []
    for t, doc in docs:
        b = expected_badge(doc, PALETTE)
        if not out or out[-1][1] != b:
            out.append((t, b))
    return out
