"""The tray's own dashboard (GET /) in real headless Chromium against `secondline run --demo --headless`:
tiles take the palette colour of their group's health, follow the demo live over /events without a reload,
and say so when the tray goes away. Screenshots in artifacts/."""
from __future__ import annotations

import time

import pytest

from support.browsers import BROWSER_ARGS, CHROMIUM, LIVE, PALETTE
from support.demo_tray import DemoTray, TrayWatcher
from support.procs import free_port

pytestmark = pytest.mark.slow


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb(%d, %d, %d)" % (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def tile_states(page) -> dict[str, tuple[str, str]]:
    return dict(page.eval_on_selector_all(
        "#tiles .tile", "ts => ts.map(t => [t.dataset.group, [t.dataset.state, getComputedStyle(t).backgroundColor]])"))


def group_state(doc: dict, name: str) -> str:
    g = next(g for g in doc["groups"] if g["name"] == name)
    return "handled_only" if g.get("handled_only") and g["health"] == "ok" else g["health"]


@pytest.fixture
def page(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        yield page
    finally:
        browser.close()


@pytest.mark.timeout(120)
def test_dashboard_tiles_follow_the_demo_live(page, tmp_path, artifacts):
    port = free_port()
    with DemoTray(port, tmp_path / "tray.log") as tray:
        watcher = TrayWatcher(tray.url)
        try:
            page.goto(f"{tray.url}/")
            page.wait_for_selector("#tiles .tile")
            page.evaluate("window.__sameDocument = true")   # gone if the page reloads
            assert sorted(tile_states(page)) == ["integration", "production", "staging"]

            # Through the demo: production critical, then acknowledged (dark green); integration unreachable.
            lags = []
            for group, state in [("staging", "warning"), ("production", "critical"),
                                 ("production", "handled_only"), ("integration", "unknown")]:
                page.wait_for_selector(f'#tiles .tile[data-group="{group}"][data-state="{state}"]', timeout=30000)
                seen = time.monotonic()
                sent = [t for t, d in watcher.docs if group_state(d, group) == state]
                if sent:
                    lags.append((f"{group} {state}", round(seen - sent[0], 3)))
                # Every tile is painted in the palette colour of its state.
                for name, (st, colour) in tile_states(page).items():
                    assert colour == rgb(PALETTE[st]), (name, st, colour)
                if state == "critical":
                    tile = page.locator('#tiles .tile[data-group="production"]')
                    assert tile.locator(".counts b").all_inner_texts()[0] == "1"
                    link = page.locator('section.source[data-source="demo-production"] a').first
                    assert link.get_attribute("href") == \
                        "https://monitoring.example.com/icingaweb2/icingadb/service?name=http&host.name=web01"
                    page.screenshot(path=str(artifacts / "dashboard-critical.png"), full_page=True)
            print("dashboard tile lag behind the tray (s):", lags)
            assert page.evaluate("window.__sameDocument === true"), "the page reloaded instead of updating live"
            assert all(lag <= LIVE for _, lag in lags), lags
            page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
        finally:
            watcher.close()
        tray.stop()
        page.wait_for_selector("#conn.down", timeout=10000)
        assert "secondline" in page.inner_text("#conn")
    assert (artifacts / "dashboard-critical.png").stat().st_size > 5000


@pytest.mark.timeout(150)
def test_dashboard_clears_new_marks_with_its_page_secret_across_a_restart(page, tmp_path):
    """The dashboard's "seen" carries the secret of the page it was served in. A restarted tray knows none
    of the old secrets: the open page takes a fresh one (once) and goes on clearing the marks, no reload."""
    import json
    import urllib.request

    from support.browsers import wait_for

    port = free_port()
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/actions/seen") else None)

    def new_marks(url: str) -> int:
        with urllib.request.urlopen(url + "/status.json", timeout=5) as r:
            doc = json.load(r)
        return sum(1 for s in doc["sources"] for a in s["alerts"] if a.get("new"))

    with DemoTray(port, tmp_path / "tray.log", env=env) as tray:
        page.goto(f"{tray.url}/")
        page.wait_for_selector("#tiles .tile")
        page.evaluate("window.__sameDocument = true")
        # Playwright delivers events only while one of its calls runs: pump them while waiting.
        wait_for(lambda: page.wait_for_timeout(100) or 200 in answers, timeout=40,
                 what="the dashboard to mark the demo's alerts seen")
    before = len(answers)
    with DemoTray(port, tmp_path / "tray2.log", env=env) as tray:
        wait_for(lambda: page.wait_for_timeout(100) or (403 in answers[before:] and answers[-1] == 200), timeout=60,
                 what="the open dashboard to take a fresh secret from the restarted tray")
        print("seen answers across the restart:", answers)
        wait_for(lambda: new_marks(tray.url) == 0 or None, timeout=30, what="the new marks to be cleared")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
