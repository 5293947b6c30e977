"""Test-wide setup: `tests/` on sys.path (for `support.*`), and no real user state touched."""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never read or write the developer's real config, state or keyring from a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for k in list(os.environ):
        if k.startswith("SECONDLINE_SECRET_"):
            monkeypatch.delenv(k)
    yield


@pytest.fixture(autouse=True)
def _fresh_demo_scenario():
    """The demo scenario's start is process-wide (all demo sources share one clock): a test that pins
    it must not leave the next test in the middle of someone else's scenario."""
    from tray.sources import demo
    demo.reset_origin()
    yield
    demo.reset_origin()


@pytest.fixture(scope="session")
def playwright_instance():
    """One Playwright for the whole run: its sync API refuses to start a second one in the same
    thread while another is alive, so every browser test (extension, dashboard, cross-origin) shares it."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p
