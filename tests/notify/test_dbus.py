"""Desktop notifications through a real D-Bus: the full app (Xvfb + trayer + a private session bus)
sends its pop-ups to an `org.freedesktop.Notifications` service, which records every Notify call."""
from __future__ import annotations

import configparser
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image

import pytest

from support.e2e import FakeAlertmanager, am_alert, am_config, clean_env
from tray.outputs.tray import icon as icons

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each


def _summaries(records: list[dict]) -> list[str]:
    return [r["summary"] for r in records]


def test_demo_popups_reach_the_notification_service(desktop, run_app, home):
    notifyd = desktop.notifyd
    notifyd.log_path.write_text("")
    app = run_app(["run", "--demo"], clean_env(home, **desktop.env))
    recs = notifyd.wait_for(lambda r: r["summary"] == "Warning: app-staging-1: disk /var", timeout=20)
    print(recs)
    warning = next(r for r in recs if r["summary"].startswith("Warning"))
    assert warning["app_name"] == "secondline"
    assert warning["body"] == "demo-staging · staging\nDISK WARNING - free space: /var 9%"
    # Nothing popped up for the start-up state: the warning is the first pop-up.
    assert _summaries(recs)[0] == "Warning: app-staging-1: disk /var"
    recs = notifyd.wait_for(lambda r: r["summary"] == "Critical: web01: http", timeout=15)
    critical = next(r for r in recs if r["summary"] == "Critical: web01: http")
    assert critical["body"] == "demo-production · production\nHTTP CRITICAL - 503 Service Unavailable"
    assert critical["hints"].get("urgency") == 2          # critical urgency for a critical alert
    assert warning["hints"].get("urgency") == 1
    out = app.output()
    # The desktop backend was used: no console fallback.
    assert "[notification]" not in out and "desktop notifications off" not in out, out
    assert app.stop() == 0


def _icon_file(record: dict) -> Path:
    icon = record["icon"]
    assert icon.startswith("file://"), f"not an icon file of ours: {icon!r}"
    return Path(unquote(urlparse(icon).path))


def test_popups_carry_the_apps_identity(desktop, run_app, home):
    """Pop-ups show secondline's own icon (the state's: a red cross for a critical), not the
    Python logo, and name secondline.desktop, which the app installs, so the desktop groups them."""
    notifyd = desktop.notifyd
    notifyd.log_path.write_text("")
    app = run_app(["run", "--demo"], clean_env(home, **desktop.env))
    recs = notifyd.wait_for(lambda r: r["summary"].startswith("Recovered: app-staging-1"), timeout=40)
    by_summary = {r["summary"]: r for r in recs}
    warning, critical = by_summary["Warning: app-staging-1: disk /var"], by_summary["Critical: web01: http"]
    recovered = by_summary["Recovered: app-staging-1: disk /var"]
    for r in (warning, critical, recovered):
        assert r["app_name"] == "secondline"
        assert r["hints"].get("desktop-entry") == "secondline", r["hints"]
        assert "python" not in r["icon"].lower(), r["icon"]
    for r, state in ((warning, "warning"), (critical, "critical"), (recovered, "ok")):
        path = _icon_file(r)
        want = icons.render(state, 0, 128)
        got = Image.open(path).convert("RGBA")
        assert got.size == want.size and got.tobytes() == want.tobytes(), (state, path)
    # The desktop entry the hint names: an application entry of this installation with our icon.
    entry = home / ".local/share/applications/secondline.desktop"
    assert entry.exists(), app.output()
    desktop_file = configparser.ConfigParser(interpolation=None)
    desktop_file.optionxform = str
    desktop_file.read_string(entry.read_text())
    d = desktop_file["Desktop Entry"]
    assert d["Type"] == "Application" and d["Name"] == "secondline"
    assert d["Exec"].split()[:3] == [sys.executable, "-m", "tray"] and d["Exec"].endswith(" run")
    assert Path(d["Icon"]).is_file() and Image.open(d["Icon"]).size == (128, 128)
    assert d["X-GNOME-UsesNotifications"] == "true"
    assert app.stop() == 0


def test_recoveries_say_what_recovered_not_the_old_problem(desktop, run_app, home):
    """A recovery pop-up names what recovered and what it was, not the problem's old output; and
    the acknowledged critical gets its recovery too."""
    notifyd = desktop.notifyd
    notifyd.log_path.write_text("")
    app = run_app(["run", "--demo"], clean_env(home, **desktop.env))
    # The demo's last step recovers web01 and the integration source 1.6 s apart: one pop-up
    # ("2 changes ...") or two, depending on the gap between pop-ups.
    recs = notifyd.wait_for(lambda r: "Recovered: web01: http" in r["summary"] + "\n" + r["body"], timeout=40)
    by_summary = {r["summary"]: r for r in recs}
    disk = by_summary["Recovered: app-staging-1: disk /var"]
    assert disk["body"] == "demo-staging · staging\nwas warning", disk
    web = next(r for r in recs if "Recovered: web01: http" in r["summary"] + "\n" + r["body"])
    if web["summary"] == "Recovered: web01: http":
        assert web["body"] == "demo-production · production\nwas critical, handled (acknowledged)", web
    assert "DISK WARNING" not in disk["body"] and "503" not in web["body"]
    # Nothing a user would call "held back": the acknowledgement itself is not news.
    assert app.status()["notifications"]["held"] == [], app.status()["notifications"]
    assert app.stop() == 0


def test_nothing_pops_up_for_what_was_there_at_start_up(desktop, run_app, home, tmp_path):
    notifyd = desktop.notifyd
    notifyd.log_path.write_text("")
    with FakeAlertmanager() as am:
        am.set_alerts([am_alert("DiskFull", "critical", "db01")])
        cfg = am_config(tmp_path / "config.toml", am.url, auth="none")
        app = run_app(["run", "--config", str(cfg)], clean_env(home, **desktop.env))
        app.wait_status(lambda d: d["counts"]["critical"] == 1, timeout=15, what="the start-up alert")
        am.set_alerts([am_alert("DiskFull", "critical", "db01"), am_alert("LoadHigh", "warning", "web02")])
        recs = notifyd.wait_for(lambda r: r["summary"] == "Warning: LoadHigh on web02", timeout=15)
        # Pop-ups come in order: had the start-up alert raised one, it would be listed before.
        assert _summaries(recs) == ["Warning: LoadHigh on web02"], recs
        assert recs[0]["body"] == "prod-am · production\nLoadHigh on web02"
        assert app.stop() == 0


def test_no_notification_service_falls_back_to_the_console_and_says_why_once(desktop, run_app, home, tmp_path):
    from support.dbus import PrivateBus
    with PrivateBus(tmp_path / "bus") as empty_bus:          # a session bus nobody serves pop-ups on
        assert not empty_bus.name_has_owner("org.freedesktop.Notifications")
        app = run_app(["run", "--demo"], clean_env(home, **desktop.xvfb.env, **empty_bus.env))
        app.wait_output("[notification] Warning: app-staging-1: disk /var", timeout=20)
        out = app.wait_output("[notification] Critical: web01: http", timeout=15)
        reason = "desktop notifications off: no notification service (org.freedesktop.Notifications) " \
                 "on the session bus; printing them to the log instead"
        assert out.count("desktop notifications off") == 1 and reason in out, out
        assert "Traceback" not in out
        assert app.stop() == 0


def test_no_session_bus_falls_back_to_the_console_and_says_why_once(desktop, run_app, home):
    env = clean_env(home, **desktop.xvfb.env)
    assert "DBUS_SESSION_BUS_ADDRESS" not in env
    app = run_app(["run", "--demo"], env)
    app.wait_output("[notification] Warning: app-staging-1: disk /var", timeout=20)
    out = app.wait_output("[notification] Critical: web01: http", timeout=15)
    assert out.count("desktop notifications off") == 1, out
    assert "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)" in out
    assert "Traceback" not in out
    assert app.stop() == 0


def test_clicking_a_popup_opens_the_alert(desktop, run_app, home, tmp_path):
    notifyd = desktop.notifyd
    notifyd.log_path.write_text("")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"          # stands in for the person's browser
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{opened}"\n')
    browser.chmod(0o755)
    app = run_app(["run", "--demo"], clean_env(home, **desktop.env, BROWSER=f"{browser} %s"))
    recs = notifyd.wait_for(lambda r: r["summary"] == "Warning: app-staging-1: disk /var", timeout=20)
    warning = next(r for r in recs if r["summary"].startswith("Warning"))
    assert "default" in warning["actions"]      # the pop-up is clickable
    notifyd.click(warning["id"], "default")
    end = time.monotonic() + 10
    while time.monotonic() < end and not (opened.exists() and opened.read_text().strip()):
        time.sleep(0.1)
    assert opened.exists(), f"no browser was opened\n{app.output()}"
    assert opened.read_text().splitlines() == [
        "https://monitoring.example.com/icingaweb2/icingadb/service?name=disk&host.name=app-staging-1"]
    assert app.stop() == 0
