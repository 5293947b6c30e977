"""One set of operations on the extension, for each browser, so that one test body runs in both.

A driver (`ChromiumExtension` here, `FirefoxExtension` in firefox.py) reads the toolbar button, changes the
extension's settings and opens its pages; a `Page` is a tab (an extension page or a web page) with the few
things the tests do to it. Both browsers answer the same questions:

    ext.badge() -> (text, "#rrggbb")      ext.badge_text_colour() -> "#rrggbb"      ext.title() -> tooltip
    ext.wait_badge(text, colour)          ext.wait_title(predicate, what)           ext.set_port(port)
    ext.ext_eval(js)        JS in an extension context (Chromium: the worker; Firefox: an extension page)
    ext.page(path)          an extension page (popup.html, options.html) in a tab
    ext.web_page(url)       a plain web page
    ext.stop_background()   what the browser does to an idle worker / event page
    ext.origin              the Origin the extension's requests carry

Selectors are CSS; `Page.evaluate` takes a JS expression or function source like Playwright's.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable

from support.browsers import hex_colour, wait_for

# Text and colour are two calls: read colour, text, colour, text and keep only a reading that did not change
# in between, so a sample taken while the worker is half-way through an update is not mistaken for a state.
READ_BADGE = """async () => {
    for (let i = 0; i < 50; i++) {
        const c1 = await chrome.action.getBadgeBackgroundColor({}); const t1 = await chrome.action.getBadgeText({});
        const c2 = await chrome.action.getBadgeBackgroundColor({}); const t2 = await chrome.action.getBadgeText({});
        if (t1 === t2 && c1.join() === c2.join()) return [t1, c1];
    }
    throw new Error('badge kept changing');
}"""


def read_badge(target) -> tuple[str, str]:
    """(text, #rrggbb) of the toolbar badge, read through the action API from the worker or a Playwright page."""
    text, colour = target.evaluate(READ_BADGE)
    return text, hex_colour(colour)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


class Page:
    """What both browsers' pages share; each subclass implements the primitives."""

    def wait_text(self, selector: str, expected: "str | re.Pattern[str]", timeout: float = 5.0,
                  contains: bool = False) -> str:
        """Wait until the first match's text (whitespace normalised) equals `expected`, contains it, or
        matches the pattern; returns that text."""
        def ok() -> str | None:
            text = _normalise(self.text_content(selector))
            if isinstance(expected, re.Pattern):
                hit = expected.search(text)
            else:
                hit = (expected in text) if contains else (text == _normalise(expected))
            return text if hit else None
        return wait_for(ok, timeout=timeout, step=0.05, what=f"{selector} to have text {expected!r}")

    def hidden(self, selector: str) -> bool:
        return not self.visible(selector)

    # primitives: wait, text, text_content, attr, count, visible, all, evaluate, click, fill, set_checked,
    # checked, value, focus, press, screenshot, reload, close, color_scheme


class ChromiumPage(Page):
    """A Playwright page."""

    def __init__(self, page):
        self.pw = page

    def wait(self, selector: str, state: str = "visible", timeout: float = 10.0) -> None:
        self.pw.wait_for_selector(selector, state=state, timeout=timeout * 1000)

    def text(self, selector: str) -> str:
        return self.pw.inner_text(selector)

    def text_content(self, selector: str) -> str:
        return self.pw.text_content(selector) or ""

    def attr(self, selector: str, name: str) -> str | None:
        return self.pw.get_attribute(selector, name)

    def count(self, selector: str) -> int:
        return self.pw.locator(selector).count()

    def visible(self, selector: str) -> bool:
        return self.pw.is_visible(selector)

    def all(self, selector: str, fn: str) -> Any:
        return self.pw.eval_on_selector_all(selector, fn)

    def evaluate(self, js: str, arg: Any = None) -> Any:
        return self.pw.evaluate(js) if arg is None else self.pw.evaluate(js, arg)

    def click(self, selector: str) -> None:
        self.pw.click(selector, timeout=5000)

    def fill(self, selector: str, value: str) -> None:
        self.pw.fill(selector, value)
        self.pw.dispatch_event(selector, "change")

    def set_checked(self, selector: str, on: bool) -> None:
        (self.pw.check if on else self.pw.uncheck)(selector)

    def checked(self, selector: str) -> bool:
        return self.pw.is_checked(selector)

    def value(self, selector: str) -> str:
        return self.pw.input_value(selector)

    def focus(self, selector: str) -> None:
        self.pw.focus(selector)

    def press(self, key: str) -> None:
        self.pw.keyboard.press(key)

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        self.pw.screenshot(path=str(path), full_page=full_page)

    def reload(self) -> None:
        self.pw.reload()

    def close(self) -> None:
        self.pw.close()

    def color_scheme(self, scheme: str) -> None:
        self.pw.emulate_media(color_scheme=scheme)


class ChromiumExtension:
    """A persistent Chromium context with the extension, read through the MV3 worker's action API."""

    name = "chromium"

    def __init__(self, ctx, ext_id: str):
        self.ctx = ctx
        self.ext_id = ext_id
        self.origin = f"chrome-extension://{ext_id}"
        self.sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
        assert self.sw.url == f"chrome-extension://{ext_id}/background.js", self.sw.url

    def ext_eval(self, js: str) -> Any:
        return self.sw.evaluate(js)

    def badge(self) -> tuple[str, str]:
        return read_badge(self.sw)

    def badge_seen_from(self, page: ChromiumPage) -> tuple[str, str]:
        """The badge read through an extension page's action API: the worker is not woken by reading it."""
        return read_badge(page.pw)

    def badge_text_colour(self) -> str:
        return hex_colour(self.sw.evaluate("chrome.action.getBadgeTextColor({})"))

    def title(self) -> str:
        return self.sw.evaluate("chrome.action.getTitle({})")

    def wait_title(self, ok: Callable[[str], bool], what: str, timeout: float = 5) -> str:
        """The tooltip is set in the same batch as the badge but by a separate call, so a test that has just
        seen the badge change waits for the tooltip too rather than reading it at once."""
        def matching() -> str | None:
            title = self.title()
            return title if ok(title) else None
        return wait_for(matching, timeout=timeout, step=0.01, what=f"tooltip {what}")

    def set_port(self, port: int) -> None:
        self.sw.evaluate(f"chrome.storage.sync.set({{port: {port}}})")

    def wait_badge(self, text: str, colour: str, timeout: float = 15) -> float:
        """Wait until the badge shows text on colour; returns when (monotonic) it was first seen."""
        wait_for(lambda: self.badge() == (text, colour), timeout=timeout, step=0.01,
                 what=f"badge {text!r} on {colour}")
        return time.monotonic()

    def page(self, path: str, width: int = 400, height: int = 600) -> ChromiumPage:
        page = self.ctx.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"chrome-extension://{self.ext_id}/{path}")
        return ChromiumPage(page)

    def web_page(self, url: str) -> ChromiumPage:
        page = self.ctx.new_page()
        page.goto(url)
        return ChromiumPage(page)

    def stop_background(self) -> None:
        """Close the worker's target over CDP: what Chromium does to an idle worker (Playwright's debugger
        connection keeps it from happening by itself)."""
        cdp = self.ctx.browser.new_browser_cdp_session() if self.ctx.browser else self.ctx.new_cdp_session(self.ctx.pages[0])
        targets = [t for t in cdp.send("Target.getTargets")["targetInfos"]
                   if t["type"] == "service_worker" and self.ext_id in t["url"]]
        assert len(targets) == 1, targets
        assert cdp.send("Target.closeTarget", {"targetId": targets[0]["targetId"]})["success"]
        wait_for(lambda: not any(t["targetId"] == targets[0]["targetId"]
                                 for t in cdp.send("Target.getTargets")["targetInfos"]),
                 timeout=5, what="the worker target to go away")
