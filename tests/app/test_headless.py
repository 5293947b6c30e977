"""Headless mode: no tray icon, every notification printed to the console, the endpoint as usual."""
from __future__ import annotations

import pytest

from support.e2e import clean_env, validate_document

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

WARNING_LINE = "[notification] Warning: app-staging-1: disk /var"
NO_DISPLAY = "no display (DISPLAY / WAYLAND_DISPLAY unset)"


def test_headless_prints_each_notification(run_app, home):
    app = run_app(["run", "--demo", "--headless"], clean_env(home))
    out = app.wait_output(WARNING_LINE, timeout=20)
    # The start-up state (all ok) raised nothing: the warning is the first notification printed.
    assert out.count("[notification]") == 1, out
    assert "demo-staging · staging; DISK WARNING - free space: /var 9%" in out.split(WARNING_LINE, 1)[1]
    # The critical follows, as its own line.
    out = app.wait_output("[notification] Critical: web01: http", timeout=15)
    assert "HTTP CRITICAL - 503 Service Unavailable" in out
    # --headless is chosen, not imposed: no "no display" notice, and no tray icon was tried.
    assert NO_DISPLAY not in out
    assert "tray icon" not in out
    doc = app.status()
    validate_document(doc)
    assert app.stop() == 0


def test_no_display_says_so_once_and_keeps_serving(run_app, home):
    env = clean_env(home)
    assert "DISPLAY" not in env and "WAYLAND_DISPLAY" not in env
    app = run_app(["run", "--demo"], env)     # no --headless: the missing display decides
    doc = app.wait_status(lambda d: d["state"] == "warning", timeout=20, what="warning")
    validate_document(doc)
    assert [s["name"] for s in doc["sources"]] == ["demo-production", "demo-staging", "demo-integration"]
    out = app.wait_output(WARNING_LINE, timeout=10)
    assert out.count(NO_DISPLAY) == 1, out
    notice = next(line for line in out.splitlines() if NO_DISPLAY in line)
    assert "running without the tray icon" in notice and "notifications are printed here" in notice
    assert "Traceback" not in out
    assert app.stop() == 0
    assert app.output().count(NO_DISPLAY) == 1
