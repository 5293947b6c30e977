"""The built extension in real headless browsers: Debian's Chromium (Playwright, executable_path) and
Debian's Firefox ESR (Marionette, firefox.py); never a browser download.

The extension is built once per session by extension/build.mjs (which copies shared/palette.json and
shared/status.schema.json into the packages), into a temporary directory, and loaded from there.
`browser` is each behaviour test's browser: the test runs once in Chromium and once in Firefox, through the
same operations (drivers.py). `chromium` and `firefox` are for the tests of one browser's own mechanics.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.parts import PartDidNotStart

from support.browsers import (ARTIFACTS, BROWSER_ARGS, CHROMIUM, LIVE, PALETTE, REPO, TRAY_ORIGINS,  # noqa: F401
                              hex_colour, wait_for)  # (re-exported)
from .drivers import READ_BADGE, ChromiumExtension, read_badge  # noqa: F401 (re-exported)

BROWSERS = ["chromium", "firefox"]

pytestmark = pytest.mark.slow


def extension_id(manifest: dict[str, Any]) -> str:
    """Chrome's ID from the manifest's public key (sha256, first 32 hex digits written a-p)."""
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def extension_args(ext: "str | Path") -> list[str]:
    """Chromium's arguments to load the unpacked extension at `ext` (and nothing else)."""
    return [f"--disable-extensions-except={ext}", f"--load-extension={ext}", *BROWSER_ARGS]


def build_extension(out: Path) -> Path:
    """extension/build.mjs into `out`; the unpacked Chrome package it writes there."""
    subprocess.run(["node", str(REPO / "extension" / "build.mjs"), "--out", str(out)], check=True,
                   capture_output=True, text=True)
    return out / "extension-chrome"


@pytest.fixture(scope="session")
def built_extension(tmp_path_factory) -> dict[str, Any]:
    override = os.environ.get("SECONDLINE_TEST_EXTENSION_DIR")
    if override:
        # Test an already built (or deliberately altered) Chrome package instead of building one; its
        # Firefox sibling (extension-firefox/ beside it) when there is one.
        chrome = Path(override).resolve()
        firefox = chrome.parent / "extension-firefox"
        zip_ = None
        out = chrome.parent
    else:
        out = tmp_path_factory.mktemp("ext-build")
        chrome = build_extension(out)
        firefox = out / "extension-firefox"
        zip_ = out / "secondline-chrome.zip"
    manifest = json.loads((chrome / "manifest.json").read_text())
    gecko = json.loads((firefox / "manifest.json").read_text())["browser_specific_settings"]["gecko"]["id"] \
        if firefox.exists() else None
    return {"dir": chrome, "id": extension_id(manifest), "zip": zip_, "out": out,
            "firefox_dir": firefox, "firefox_zip": out / "secondline-firefox.zip", "gecko_id": gecko}


def launch_chromium(built: dict[str, Any], playwright, profile: Path) -> tuple[Any, ChromiumExtension]:
    if not Path(CHROMIUM).exists():
        raise PartDidNotStart("Chromium", f"{CHROMIUM} is missing (Debian package chromium, see deps/debian.txt)")
    try:
        ctx = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=extension_args(built["dir"]))
    except Exception as exc:
        raise PartDidNotStart("Chromium", f"{CHROMIUM} with the extension", str(exc)) from None
    try:
        return ctx, ChromiumExtension(ctx, built["id"])
    except BaseException:
        ctx.close()
        raise


def launch_firefox(built: dict[str, Any], profile: Path, env: dict[str, str] | None = None, **prefs: Any):
    """Firefox ESR on a fresh profile with the add-on installed as a temporary add-on; returns the driver."""
    from .firefox import Addons, FirefoxExtension, FirefoxProcess, firefox_prefs, write_profile
    if not built.get("gecko_id"):
        pytest.fail(f"no Firefox build beside {built['dir']}")
    write_profile(profile, firefox_prefs(built["gecko_id"], **prefs))
    process = FirefoxProcess(profile, env=env).start()
    try:
        client = process.connect()
        installed = Addons(client).install(str(built["firefox_dir"]), temp=True)
        assert installed == built["gecko_id"], installed
        return FirefoxExtension(process, client, installed)
    except PartDidNotStart:
        process.stop()
        raise
    except BaseException as exc:
        log = process.log.text() if process.log else ""
        process.stop()
        raise PartDidNotStart("Firefox", f"{exc.__class__.__name__}: {exc}", log) from None


@pytest.fixture
def chromium(built_extension, playwright_instance, tmp_path):
    ctx, ext = launch_chromium(built_extension, playwright_instance, tmp_path / "profile")
    try:
        yield ext
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def desktop_bus(tmp_path_factory):
    """A private D-Bus session with a notification service, as on a desktop: Firefox on Linux shows an
    extension's notifications through it (libnotify), and closes them at once when there is none."""
    from support.dbus import FakeNotifyd, PrivateBus
    tmp = tmp_path_factory.mktemp("desktop-bus")
    bus = PrivateBus(tmp).start()
    try:
        notifyd = FakeNotifyd(bus, tmp / "notify.jsonl").start()
    except BaseException:
        bus.stop()
        raise
    try:
        yield bus, notifyd
    finally:
        notifyd.stop()
        bus.stop()


@pytest.fixture
def firefox_factory(built_extension, tmp_path, desktop_bus):
    """Start Firefox with the add-on and the given extra prefs; every one started is stopped afterwards."""
    started = []
    bus, _ = desktop_bus

    def start(**prefs: Any):
        ext = launch_firefox(built_extension, tmp_path / f"ff-profile-{len(started)}", env=bus.env, **prefs)
        started.append(ext)
        return ext
    try:
        yield start
    finally:
        for ext in started:
            ext.close()
            ext.process.stop()


@pytest.fixture
def firefox(firefox_factory):
    return firefox_factory()


@pytest.fixture(params=BROWSERS)
def browser(request, built_extension, tmp_path):
    """The behaviour tests' browser: each runs once in Chromium and once in Firefox."""
    if request.param == "chromium":
        yield request.getfixturevalue("chromium")
    else:
        yield request.getfixturevalue("firefox")


def which_node() -> str:
    node = shutil.which("node")
    if not node:
        pytest.fail("node is missing: apt-get install nodejs")
    return node
