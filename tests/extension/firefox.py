"""Real headless Firefox (Debian's firefox-esr) with the built extension, driven over Marionette.

Firefox's own Marionette server (`--marionette`, a free port written to the profile's MarionetteActivePort)
and the `marionette-driver` client from PyPI: no geckodriver, no browser download. The add-on is installed
as a temporary add-on from the unpacked Firefox build (what about:debugging -> "Load Temporary Add-on"
does), or, for the runs with no driver attached, installed into the profile like a user's add-on.

The toolbar badge is read where Firefox draws it: the extension's button in the browser window (chrome
context), its `badge` attribute and `badgeStyle` colours. The tooltip comes from the action's state. The
extension's own APIs (storage, permissions) are used from an extension page, as the extension does itself.

Each browser gets a fresh profile with the preferences below: the machine has no network, and nothing may
wait on it (updates, telemetry, remote settings, safe browsing, captive portal checks are off).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from support.parts import PartDidNotStart

with warnings.catch_warnings():
    # mozinfo / mozrunner, imported by marionette-driver, use distro.linux_distribution() and telnetlib.
    warnings.simplefilter("ignore", DeprecationWarning)
    from marionette_driver.addons import Addons  # noqa: F401 (re-exported for conftest)
    from marionette_driver.by import By
    from marionette_driver.errors import StaleElementException
    from marionette_driver.marionette import Marionette

from .browser_log import BrowserLog
from support.browsers import TRAY_ORIGINS, wait_for
from .drivers import Page

# Another Firefox binary (e.g. an older ESR unpacked with `dpkg -x`) to run the same tests against.
FIREFOX = os.environ.get("SECONDLINE_TEST_FIREFOX", "/usr/bin/firefox-esr")
# A fixed moz-extension:// host for the add-on, so tests can open its pages and know the Origin it sends
# (Firefox otherwise picks a random UUID per profile).
EXT_UUID = "5ec0d11e-0000-4000-8000-0000000000a1"
ACTION_BUTTON = ".unified-extensions-item-action-button"

# No network traffic of Firefox's own (the machine has none; a request that waits on it would stall tests).
OFFLINE_PREFS: dict[str, Any] = {
    "app.normandy.api_url": "",
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "browser.backup.enabled": False,
    "browser.ml.enable": False,
    "browser.aboutwelcome.enabled": False,
    "browser.discovery.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.region.network.url": "",
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.search.update": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.topsites.contile.enabled": False,
    "browser.translations.enable": False,
    "browser.urlbar.suggest.searches": False,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.dataSubmissionPolicyBypassNotification": True,
    "datareporting.usage.uploadEnabled": False,
    "dom.push.connection.enabled": False,
    "extensions.blocklist.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.getAddons.discovery.api_url": "data:, ",
    "extensions.systemAddon.update.enabled": False,
    "extensions.update.enabled": False,
    "geo.provider.network.url": "",
    "media.gmp-manager.url": "",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "startup.homepage_welcome_url": "about:blank",
    "telemetry.fog.test.localhost_port": -1,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.unified": False,
}


def firefox_prefs(ext_id: str, **extra: Any) -> dict[str, Any]:
    """The test profile's preferences: offline, the add-on's fixed UUID, its console on stdout."""
    return {
        **OFFLINE_PREFS,
        "extensions.webextensions.uuids": json.dumps({ext_id: EXT_UUID}),
        # console.* of extension pages (the event page's badge lines) on stdout: see browser_log.py.
        "devtools.console.stdout.content": True,
        "marionette.port": 0,   # a free port, written to <profile>/MarionetteActivePort
        **extra,
    }


def write_profile(profile: Path, prefs: dict[str, Any]) -> None:
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
                                             for k, v in prefs.items()))


class FirefoxProcess:
    """`firefox-esr --headless` on `profile`; with `marionette`, its Marionette server is on (no client is
    connected until connect()). stdout+stderr are read into `log` (BrowserLog)."""

    def __init__(self, profile: Path, marionette: bool = True, clock: Callable[[], float] = time.time,
                 env: dict[str, str] | None = None):
        self.profile = profile
        self.marionette = marionette
        self.env = env or {}
        self.clock = clock
        self.proc: subprocess.Popen | None = None
        self.log: BrowserLog | None = None

    def start(self) -> "FirefoxProcess":
        if not Path(FIREFOX).exists():
            raise PartDidNotStart("Firefox", f"{FIREFOX} is missing (Debian package firefox-esr, see deps/debian.txt)")
        (self.profile / "MarionetteActivePort").unlink(missing_ok=True)
        args = [FIREFOX, "--headless", "--no-remote", "--profile", str(self.profile)]
        if self.marionette:
            # System access: the tests read the toolbar button and answer the permission prompt in the chrome.
            args += ["--marionette", "-remote-allow-system-access"]
        self.proc = subprocess.Popen([*args, "about:blank"], env={**os.environ, **self.env, "MOZ_HEADLESS": "1"},
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.log = BrowserLog(self.proc.stdout, self.clock)
        return self

    def connect(self, timeout: float = 60):
        """A Marionette client with a new session."""
        port_file = self.profile / "MarionetteActivePort"
        end = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None:
                raise PartDidNotStart("Firefox", f"exited with {self.proc.returncode}", self.log.text())
            if time.monotonic() > end:
                raise PartDidNotStart("Firefox", f"no Marionette port within {timeout}s", self.log.text())
            time.sleep(0.05)
        client = Marionette(host="127.0.0.1", port=int(port_file.read_text()), startup_timeout=int(timeout))
        client.start_session()
        client.timeout.script = 30
        return client

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


# -- JS run in a page (Marionette with sandbox=None: the page's own global, its own origin) ------------------
_EVAL = """
const done = arguments[arguments.length - 1];
const arg = arguments[0];
(async () => {
  const value = (__JS__);
  return typeof value === "function" ? await value(arg) : await value;
})().then(
  (v) => done({ ok: v === undefined ? null : JSON.parse(JSON.stringify(v)) }),
  (e) => done({ error: String((e && e.message) || e), stack: String((e && e.stack) || "") }));
"""

_VISIBLE = """(el) => { if (!el) return false; const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true }); }"""

_KEYS = {"Tab": "\ue004", "Enter": "\ue007", "Escape": "\ue00c", "Space": " "}


class FirefoxPage(Page):
    """A tab of the Firefox window. Operations switch Marionette to it first."""

    def __init__(self, ext: "FirefoxExtension", handle: str):
        self.ext = ext
        self.handle = handle

    @property
    def m(self):
        self.ext.switch(self.handle)
        return self.ext.m

    def evaluate(self, js: str, arg: Any = None) -> Any:
        answer = self.m.execute_async_script(_EVAL.replace("__JS__", js), script_args=[arg], sandbox=None)
        if "error" in answer:
            raise AssertionError(f"JS failed in {self.handle}: {answer['error']}\n{answer.get('stack', '')}")
        return answer["ok"]

    def _first(self, selector: str, fn: str, timeout: float = 5.0) -> Any:
        """fn(element) on the first match, waiting (like Playwright's auto-wait) until there is one."""
        js = f"() => {{ const el = document.querySelector({json.dumps(selector)}); " \
             f"return el ? {{ v: ({fn})(el) }} : null; }}"
        return wait_for(lambda: self.evaluate(js), timeout=timeout, step=0.05, what=f"{selector} on the page")["v"]

    def wait(self, selector: str, state: str = "visible", timeout: float = 10.0) -> None:
        js = f"""() => {{ const el = document.querySelector({json.dumps(selector)}); const visible = ({_VISIBLE})(el);
            return {{ attached: !!el, detached: !el, visible, hidden: !visible }}[{json.dumps(state)}]; }}"""
        wait_for(lambda: self.evaluate(js), timeout=timeout, step=0.05, what=f"{selector} {state}")

    def text(self, selector: str) -> str:
        return self._first(selector, "(el) => el.innerText")

    def text_content(self, selector: str) -> str:
        return self._first(selector, "(el) => el.textContent") or ""

    def attr(self, selector: str, name: str) -> str | None:
        return self._first(selector, f"(el) => el.getAttribute({json.dumps(name)})")

    def count(self, selector: str) -> int:
        return self.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length")

    def visible(self, selector: str) -> bool:
        return self.evaluate(f"({_VISIBLE})(document.querySelector({json.dumps(selector)}))")

    def all(self, selector: str, fn: str) -> Any:
        return self.evaluate(f"() => ({fn})([...document.querySelectorAll({json.dumps(selector)})])")

    def _element(self, selector: str):
        self.wait(selector, "visible", timeout=5)
        return self.m.find_element(By.CSS_SELECTOR, selector)

    def click(self, selector: str) -> None:
        # A real click (WebDriver), so the page gets a trusted event: permissions.request needs one. The popup
        # re-renders on every status update; an element replaced between finding and clicking it is found
        # again (as Playwright does).
        for attempt in range(3):
            try:
                self._element(selector).click()
                return
            except StaleElementException:
                if attempt == 2:
                    raise

    def fill(self, selector: str, value: str) -> None:
        el = self._element(selector)
        el.clear()
        el.send_keys(value)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).dispatchEvent(new Event('change', {{bubbles: true}}))")

    def set_checked(self, selector: str, on: bool) -> None:
        if self.checked(selector) != on:
            self.click(selector)
        wait_for(lambda: self.checked(selector) == on, timeout=5, what=f"{selector} checked={on}")

    def checked(self, selector: str) -> bool:
        return self._first(selector, "(el) => el.checked")

    def value(self, selector: str) -> str:
        return self._first(selector, "(el) => el.value")

    def focus(self, selector: str) -> None:
        self._first(selector, "(el) => { el.focus(); return true; }")

    def press(self, key: str) -> None:
        k = _KEYS.get(key, key)
        self.m.actions.sequence("key", "keyboard").key_down(k).key_up(k).perform()

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        Path(path).write_bytes(self.m.screenshot(format="binary", full=full_page))

    def reload(self) -> None:
        self.m.refresh()

    def close(self) -> None:
        self.ext.close_tab(self.handle)

    def color_scheme(self, scheme: str) -> None:
        # 0 dark, 1 light: what the page sees as prefers-color-scheme (Firefox's own override).
        self.ext.set_pref("layout.css.prefers-color-scheme.content-override", {"dark": 0, "light": 1}[scheme])


_RGBA = re.compile(r"rgba?\((\d+), (\d+), (\d+)")


def _style_colour(style: str | None, prop: str) -> str | None:
    m = re.search(rf"(?:^|;\s*){prop}:\s*(rgba?\([^)]*\))", style or "")
    if not m:
        return None
    r, g, b = (int(x) for x in _RGBA.match(m.group(1)).groups())
    return "#%02x%02x%02x" % (r, g, b)


class FirefoxExtension:
    """The add-on in a Firefox driven over Marionette; the same operations as drivers.ChromiumExtension."""

    name = "firefox"

    def __init__(self, process: FirefoxProcess, client, ext_id: str):
        self.process = process
        self.m = client
        self.ext_id = ext_id
        self.origin = f"moz-extension://{EXT_UUID}"
        self.home = client.current_window_handle
        self._current = self.home
        self._helper: FirefoxPage | None = None

    # -- tabs ------------------------------------------------------------------------------------------
    def switch(self, handle: str) -> None:
        if self._current != handle:
            self.m.switch_to_window(handle)
            self._current = handle

    def _tab(self, url: str, width: int | None = None, height: int | None = None) -> FirefoxPage:
        self.switch(self.home)
        handle = self.m.open(type="tab", focus=True)["handle"]
        self.switch(handle)
        if width and height:
            self.m.set_window_rect(width=max(width, 450), height=height + 80)
        self.m.navigate(url)
        return FirefoxPage(self, handle)

    def close_tab(self, handle: str) -> None:
        self.switch(handle)
        self.m.close()
        self._current = None
        self.switch(self.home)

    def page(self, path: str, width: int = 400, height: int = 600) -> FirefoxPage:
        return self._tab(f"{self.origin}/{path}", width, height)

    def web_page(self, url: str) -> FirefoxPage:
        return self._tab(url)

    # -- the browser's own side (chrome context) ----------------------------------------------------------
    def chrome(self, js: str, *args: Any) -> Any:
        """JS in the browser window's privileged scope; `ext` is the extension, `action` its toolbar action."""
        script = """
const { ExtensionParent } = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
const ext = WebExtensionPolicy.getByID(arguments[0])?.extension;
if (!ext) throw new Error("the add-on is not running");
const action = ExtensionParent.apiManager.global.browserActionFor(ext);
const args = arguments[1];
""" + js
        with self.m.using_context("chrome"):
            return self.m.execute_script(script, script_args=[self.ext_id, list(args)])

    def chrome_async(self, js: str, *args: Any) -> Any:
        script = """
const done = arguments[arguments.length - 1];
const ext = WebExtensionPolicy.getByID(arguments[0])?.extension;
const args = arguments[1];
(async () => { if (!ext) throw new Error("the add-on is not running"); """ + js + """ })().then(
  (v) => done({ ok: v === undefined ? null : v }), (e) => done({ error: String(e) }));
"""
        with self.m.using_context("chrome"):
            answer = self.m.execute_async_script(script, script_args=[self.ext_id, list(args)])
        if "error" in answer:
            raise AssertionError(answer["error"])
        return answer["ok"]

    def _button(self) -> dict[str, Any]:
        # The extension sets text and colours by separate calls, and Firefox repaints the button on the next
        # animation frame after each: a frame can show a new colour under the old count. As with Chromium's
        # READ_BADGE, keep only a reading that holds across a frame, not a state caught half-way.
        return self.chrome_async(f"""
const {{ ExtensionParent }} = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
const action = ExtensionParent.apiManager.global.browserActionFor(ext);
const read = () => {{
  const b = action.widget.forWindow(window).node.querySelector({json.dumps(ACTION_BUTTON)});
  return {{ text: b.getAttribute("badge") || "", style: b.getAttribute("badgeStyle") }};
}};
const frame = () => new Promise((r) => window.requestAnimationFrame(() => window.requestAnimationFrame(r)));
for (let i = 0; i < 50; i++) {{
  const a = read();
  await frame();
  const b = read();
  if (a.text === b.text && a.style === b.style) return b;
}}
throw new Error("badge kept changing");""")

    def badge(self) -> tuple[str, str]:
        b = self._button()
        return b["text"], _style_colour(b["style"], "background-color")

    def badge_seen_from(self, page: FirefoxPage) -> tuple[str, str]:
        """The toolbar button already is outside the event page: reading it wakes nothing."""
        return self.badge()

    def badge_text_colour(self) -> str:
        return _style_colour(self._button()["style"], "color")

    def title(self) -> str:
        return self.chrome('return action.action.getProperty(null, "title");')

    def wait_title(self, ok: Callable[[str], bool], what: str, timeout: float = 5) -> str:
        def matching() -> str | None:
            title = self.title()
            return title if ok(title) else None
        return wait_for(matching, timeout=timeout, step=0.01, what=f"tooltip {what}")

    def wait_badge(self, text: str, colour: str, timeout: float = 15) -> float:
        wait_for(lambda: self.badge() == (text, colour), timeout=timeout, step=0.01,
                 what=f"badge {text!r} on {colour}")
        return time.monotonic()

    def background_state(self) -> str:
        """The event page's state as Firefox keeps it: starting, running, suspending or stopped."""
        return self.chrome("return String(ext.backgroundState);")

    def stop_background(self) -> None:
        """Suspend the event page the way its idle timer does (Extension.terminateBackground)."""
        self.chrome_async("await ext.terminateBackground({ ignoreDevToolsAttached: true });")
        wait_for(lambda: self.background_state() == "stopped", timeout=10, what="the event page to stop")

    def set_pref(self, name: str, value: Any) -> None:
        setter = {bool: "setBoolPref", int: "setIntPref", str: "setStringPref"}[type(value)]
        with self.m.using_context("chrome"):
            self.m.execute_script(f"Services.prefs.{setter}(arguments[0], arguments[1]);", script_args=[name, value])

    def answer_permission_prompt(self, allow: bool, timeout: float = 10) -> str:
        """Press Allow (or Don't allow) on the prompt Firefox shows for permissions.request, as a user would;
        returns the prompt's text."""
        js = f"""
const n = PopupNotifications.panel.querySelector("#addon-webext-permissions-notification");
if (!n || PopupNotifications.panel.state !== "open") return null;
const text = [n.getAttribute("label"), ...[...n.querySelectorAll("description, li, label")].map((e) => e.textContent)]
  .filter(Boolean).join(" | ");
(arguments[1][0] ? n.button : n.secondaryButton).click();
return text || "(no text)";"""
        return wait_for(lambda: self.chrome(js, allow), timeout=timeout, step=0.1, what="Firefox's permission prompt")

    def withdraw_access(self) -> None:
        """What about:addons -> secondline -> Permissions does when the user switches 127.0.0.1 off."""
        self.chrome_async(f"""
const {{ ExtensionPermissions }} = ChromeUtils.importESModule("resource://gre/modules/ExtensionPermissions.sys.mjs");
await ExtensionPermissions.remove(ext.id, {{ permissions: [], origins: {json.dumps(TRAY_ORIGINS)} }}, ext);""")

    # -- the extension's own APIs, from one of its pages ----------------------------------------------------
    def ext_eval(self, js: str) -> Any:
        if self._helper is None:
            self._helper = self.page("options.html")
            self._helper.wait("body[data-ready='1']", state="attached")
        return self._helper.evaluate(js)

    def set_port(self, port: int) -> None:
        self.ext_eval(f"chrome.storage.sync.set({{port: {port}}})")

    def has_access(self) -> bool:
        return self.ext_eval(f"chrome.permissions.contains({{origins: {json.dumps(TRAY_ORIGINS)}}})")

    def close(self) -> None:
        try:
            self.m.delete_session()
        except Exception:   # the browser may already be gone; stopping it is what matters
            pass
