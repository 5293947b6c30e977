"""Pages that look finished at phone and desktop widths, in real headless Chromium: the tray's dashboard at
400 and 1280 px, the extension's options page at 400 and 1280 px, its popup at its own 380 px.

What "finished" means is measured on the rendered page and on its screenshot: the dashboard's header and
names never break inside a part ("updated / 9:15:10 / PM"), its tiles fill the row at 1280 px (the pixels of
a line through the tiles are tile colours edge to edge), no text is under 12 px (13 px on the options page),
the tab has the tray's own icon, the options page's settings sit in styled cards and a change is confirmed
where the eye is; and every word on these pages is the one shared/vocabulary.json gives (tray.core.words applies
it the same way). Screenshots go to artifacts/ (`make screenshots` puts the README's into docs/img/).
"""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from tray.outputs.tray import icon as icons
from tray.core import words
from tray.core.model import Alert, Reading, Severity
from tray.outputs.http.server import Endpoint
from tray.sources.base import SourceConfig
from tray.engine.store import Store

from .conftest import BROWSER_ARGS, CHROMIUM, PALETTE, wait_for
from .fake_tray import FakeTray, demo_step

pytestmark = pytest.mark.slow

WIDTHS = (400, 1280)
PROD = "icinga-production-eu-west-1"       # long, hyphenated names: where a careless layout splits them
STAGING = "prometheus-staging"
INTEGRATION = "icinga-integration"

# In-page measurements. lines(): how many line boxes a node's text takes (its client rects, by row).
MEASURE = """() => {
  const rows = (node) => {
    const r = document.createRange(); r.selectNodeContents(node);
    const tops = [...r.getClientRects()].filter(x => x.width > 0).map(x => x.top + x.height / 2);
    return tops.reduce((n, t, i) => n + (i && tops.slice(0, i).every(u => Math.abs(u - t) > 4) ? 1 : 0), tops.length ? 1 : 0);
  };
  const textNode = (root, text) => {
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (w.nextNode()) if (w.currentNode.textContent.trim() === text) return w.currentNode;
    return null;
  };
  const box = (e) => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; };
  const tiles = document.getElementById("tiles");
  return {
    width: document.documentElement.scrollWidth,
    header: box(document.querySelector("header")),
    updatedLines: rows(document.getElementById("updated")),
    titleLines: rows(document.querySelector("header h1")),
    summary: document.getElementById("summary").textContent,
    summaryParts: [...document.querySelectorAll("#summary > span")].map(rows),
    tiles: box(tiles),
    tileBoxes: [...tiles.children].map(box),
    tileNames: [...tiles.children].map(t => rows(textNode(t, t.dataset.group))),
    tileStates: [...tiles.children].map(t => t.querySelector(".state").textContent),
    countWords: [...tiles.children[0].querySelectorAll(".counts span")].map(s => s.textContent),
    sourceNames: [...document.querySelectorAll("section.source")].map(s => rows(textNode(s.querySelector("h3"), s.dataset.source))),
    tags: [...document.querySelectorAll("ul.alerts .sev")].map(s => s.textContent),
    errors: [...document.querySelectorAll("section.source .err")].map(e => e.textContent),
    empty: [...document.querySelectorAll("ul.alerts li.empty")].map(e => e.textContent),
    icon: document.querySelector('link[rel="icon"]')?.getAttribute("href") ?? null,
  };
}"""

# Every piece of visible text whose font is under `min` px: [element, text, px].
SMALL_TEXT = """(min) => {
  const out = []; const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (w.nextNode()) {
    const t = w.currentNode, e = t.parentElement;
    if (!t.textContent.trim() || !e.getClientRects().length || getComputedStyle(e).visibility === "hidden") continue;
    const px = parseFloat(getComputedStyle(e).fontSize);
    if (px < min) out.push([e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""),
                            t.textContent.trim().slice(0, 40), px]);
  }
  return out;
}"""


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


@pytest.fixture
def tray_endpoint():
    """The tray's real endpoint (dashboard, words, favicon) over a store holding: production critical with an
    acknowledged critical beside it, staging one warning, integration unreadable."""
    store = Store()
    store.configure([SourceConfig(name=PROD, type="icinga2", group="production"),
                     SourceConfig(name=STAGING, type="prometheus", group="staging"),
                     SourceConfig(name=INTEGRATION, type="icinga2", group="integration")])
    since = datetime.now(timezone.utc) - timedelta(minutes=7)
    store.record_reading(PROD, Reading(alerts=(
        Alert(source=PROD, id="web01!http", title="web01.eu-west-1.example.com: http", severity=Severity.CRITICAL,
              detail="HTTP CRITICAL - 503 Service Unavailable", since=since, url="https://mon.example/web01"),
        Alert(source=PROD, id="db01!disk", title="db01: disk /var", severity=Severity.CRITICAL, since=since,
              detail="DISK CRITICAL - free space: /var 2%", handled=True, handled_reason="acknowledged"))))
    store.record_reading(STAGING, Reading(alerts=(
        Alert(source=STAGING, id="LoadHigh", title="LoadHigh on app-staging-1", severity=Severity.WARNING,
              since=since),)))
    store.record_error(INTEGRATION, "HTTP 503 from https://icinga-int.example:5665")
    ep = Endpoint(store, 0)
    ep.start()
    try:
        yield ep
    finally:
        ep.stop()
        store.close()


@pytest.fixture
def plain_chromium(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
    try:
        yield browser
    finally:
        browser.close()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


@pytest.mark.parametrize("width", WIDTHS)
def test_dashboard_looks_finished_at_phone_and_desktop_width(tray_endpoint, plain_chromium, artifacts, width):
    url = f"http://127.0.0.1:{tray_endpoint.port}"
    doc = tray_endpoint.document()
    page = plain_chromium.new_page(viewport={"width": width, "height": 800})
    page.goto(url + "/")
    page.wait_for_selector("#tiles .tile")
    page.wait_for_function("document.getElementById('updated').textContent !== ''")
    shot = artifacts / f"dashboard-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    m = page.evaluate(MEASURE)

    # Nothing sticks out sideways.
    assert m["width"] <= width, f"the page is {m['width']} px wide in a {width} px window"
    # The header breaks between its parts, never inside one.
    assert m["updatedLines"] == 1 and m["titleLines"] == 1, m
    assert m["summaryParts"] and set(m["summaryParts"]) == {1}, m["summaryParts"]     # "1 / handled" neither
    assert m["header"]["h"] <= (140 if width == 400 else 64), m["header"]
    # Names are never split over lines.
    assert m["tileNames"] == [1, 1, 1] and m["sourceNames"] == [1, 1, 1], (m["tileNames"], m["sourceNames"])
    # The tiles fill the row: three side by side at 1280 px, one per row at 400 px, edge to edge.
    tiles, boxes = m["tiles"], m["tileBoxes"]
    right = max(b["x"] + b["w"] for b in boxes)
    assert right - tiles["x"] >= tiles["w"] - 1, (tiles, boxes)
    if width == 1280:
        assert len({round(b["y"]) for b in boxes}) == 1, "not one row"
    else:
        assert all(abs(b["w"] - tiles["w"]) <= 1 for b in boxes), boxes
    # The same, in the screenshot's pixels: a line inside the tiles' top padding (below the rounded
    # corners, above the text) is tile colour across the row, bar the gaps between them.
    img = Image.open(shot).convert("RGB")
    y = round(boxes[0]["y"] + 10)
    x0, x1 = round(tiles["x"]), round(tiles["x"] + tiles["w"])
    colours = {rgb(PALETTE[s]) for s in ("critical", "warning", "unknown")}
    coloured = sum(img.getpixel((x, y)) in colours for x in range(x0, x1))
    assert coloured / (x1 - x0) >= (0.95 if width == 1280 else 0.98), f"tiles cover {coloured / (x1 - x0):.0%} of the row"
    # No fine print.
    assert page.evaluate(SMALL_TEXT, 12) == []

    # One vocabulary: the tray's own words (tray.core.words over shared/vocabulary.json).
    assert m["summary"] == words.summary(doc["state"], doc["counts"]) == "1 critical, 1 unknown, 1 warning, 1 handled"
    assert m["tileStates"] == ["Critical", "Warning", "Unknown"]
    assert m["countWords"] == ["critical", "unknown", "warning", "handled"]
    assert m["tags"] == ["critical", "handled (acknowledged)", "warning"]
    assert m["errors"] == ["cannot be read: HTTP 503 from https://icinga-int.example:5665"]
    assert page.title() == "secondline: 1 critical, 1 unknown, 1 warning, 1 handled"

    # The tab's icon: the tray's icon for this state and count, drawn by the tray.
    assert m["icon"] == "/favicon.png?state=critical&count=3"
    status, ctype, body = get(url + m["icon"])
    assert status == 200 and ctype == "image/png"
    got = Image.open(io.BytesIO(body)).convert("RGBA")
    assert got.tobytes() == icons.render("critical", 3, 32).tobytes()
    page.close()


def test_dashboard_favicon_is_served_where_browsers_look_for_it(tray_endpoint):
    url = f"http://127.0.0.1:{tray_endpoint.port}"
    for path in ("/favicon.ico", "/favicon.png"):
        status, ctype, body = get(url + path)
        assert (status, ctype) == (200, "image/png"), path
        # Without a query: the tray's state right now.
        assert Image.open(io.BytesIO(body)).convert("RGBA").tobytes() == icons.render("critical", 3, 32).tobytes()
    status, _, body = get(url + "/favicon.png?state=ok&count=0")
    assert Image.open(io.BytesIO(body)).convert("RGBA").tobytes() == icons.render("ok", 0, 32).tobytes()
    # Nonsense asks for the current state rather than failing.
    assert get(url + "/favicon.png?state=purple&count=-1")[0] == 200
    # The words the dashboard reads, from the one copy in the package.
    status, ctype, body = get(url + "/vocabulary.json")
    assert status == 200 and ctype == "application/json" and json.loads(body) == words.vocabulary()
    status, ctype, _ = get(url + "/words.js")
    assert status == 200 and ctype.startswith("text/javascript")


def test_dashboard_rules_are_the_vocabularys(tray_endpoint, plain_chromium):
    """shared/words.js, as the dashboard loads it from the tray, gives every example of the vocabulary."""
    page = plain_chromium.new_page()
    page.goto(f"http://127.0.0.1:{tray_endpoint.port}/")
    got = page.evaluate("""async () => {
        const { wordsFrom } = await import('/words.js');
        const v = await (await fetch('/vocabulary.json')).json();
        const w = wordsFrom(v), ex = v.$examples;
        return [ex.summary.map(e => [w.summary(e.state, e.counts), e.text]),
                ex.tag.map(e => [w.alertTag(e.alert), e.text]),
                ex.label.map(e => [w.label(e.key), e.text])];
    }""")
    for pairs in got:
        for have, want in pairs:
            assert have == want


@pytest.mark.parametrize("width", WIDTHS)
def test_options_page_looks_finished_and_confirms_each_save(chromium, artifacts, width):
    with FakeTray(doc=demo_step("critical")) as tray:
        chromium.set_port(tray.port)
        chromium.wait_badge("2", PALETTE["critical"])
        page = chromium.page("options.html", width=width, height=700)
        page.wait("body[data-ready='1']", state="attached")
        pw = page.pw
        assert pw.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(SMALL_TEXT, 13) == []
        # Cards, not the browser's default grooved fieldsets.
        cards = pw.eval_on_selector_all("fieldset", """fs => fs.map(f => { const s = getComputedStyle(f);
            return [s.borderTopStyle, parseFloat(s.borderTopLeftRadius), s.backgroundColor]; })""")
        assert cards and all(style == "solid" and radius >= 6 and bg != "rgba(0, 0, 0, 0)" for style, radius, bg in cards), cards
        # The notification table names the states in the vocabulary's words.
        assert pw.eval_on_selector_all("#notify-table thead th", "ts => ts.map(t => t.textContent)") == \
            ["Group", "Critical", "Warning", "Unknown", "All handled", "All OK"]
        # Every box fits the window: at 400 px the table is stacked, each box named beside it.
        boxes = pw.eval_on_selector_all("#notify-table input", "bs => bs.map(b => b.getBoundingClientRect().right)")
        assert boxes and max(boxes) <= width - 12, boxes
        pw.screenshot(path=str(artifacts / f"options-{width}.png"), full_page=True)

        # A change is saved at once and says so in view, wherever the page is scrolled.
        assert not pw.is_visible("#saved") or pw.evaluate("getComputedStyle(document.getElementById('saved')).opacity") == "0"
        pw.evaluate("window.scrollTo(0, 0)")
        page.set_checked("#splitIcon", False)
        wait_for(lambda: page.text_content("#saved").startswith("✓ Saved at"), timeout=5, what="the saved note")
        wait_for(lambda: pw.evaluate("getComputedStyle(document.getElementById('saved')).opacity") == "1",
                 timeout=5, what="the saved note to show")
        note = pw.evaluate("(() => { const r = document.getElementById('saved').getBoundingClientRect(); "
                           "return [r.top, r.bottom, innerHeight, parseFloat(getComputedStyle(document.getElementById('saved')).fontSize)]; })()")
        top, bottom, viewport, px = note
        assert 0 <= top and bottom <= viewport and px >= 14, note
        pw.screenshot(path=str(artifacts / f"options-{width}-saved.png"), full_page=False)
        assert page.evaluate("chrome.storage.sync.get('splitIcon')") == {"splitIcon": False}


def test_popup_has_no_fine_print(chromium, artifacts):
    with FakeTray(doc=demo_step("critical")) as tray:
        chromium.set_port(tray.port)
        chromium.wait_badge("2", PALETTE["critical"])
        page = chromium.page("popup.html", width=380, height=600)
        page.wait("#tiles article")
        assert page.evaluate(SMALL_TEXT, 12) == []
        footer = page.pw.eval_on_selector_all("footer a", """as => as.map(a => { const r = a.getBoundingClientRect();
            return [a.textContent, parseFloat(getComputedStyle(a).fontSize), r.height]; })""")
        assert [f[0] for f in footer] == ["Open dashboard", "Options"]
        assert all(px >= 14 and h >= 24 for _, px, h in footer), footer
        page.screenshot(artifacts / "popup-380.png")
