"""Desktop notifications through a real D-Bus: the full app (Xvfb + trayer + a private session bus)
sends its pop-ups to an `org.freedesktop.Notifications` service, which records every Notify call."""
from __future__ import annotations

import time

from integration.helpers import FakeAlertmanager, am_alert, am_config, clean_env


def _summaries(records: list[dict]) -> list[str]:
    return [r["summary"] for r in records]


def test_demo_popups_reach_the_notification_service(desktop, run_app, home):
    notifyd = desktop.notifyd
    notifyd.log_path.write_text("")
    app = run_app(["run", "--demo"], clean_env(home, **desktop.env))
    recs = notifyd.wait_for(lambda r: r["summary"] == "WARNING: app-staging-1: disk /var 91%", timeout=20)
    print(recs)
    warning = next(r for r in recs if r["summary"].startswith("WARNING"))
    assert warning["app_name"] == "secondline"
    assert warning["body"] == "demo-staging · staging\nDISK WARNING - free space: /var 9%"
    # Nothing popped up for the start-up state: the warning is the first pop-up.
    assert _summaries(recs)[0] == "WARNING: app-staging-1: disk /var 91%"
    recs = notifyd.wait_for(lambda r: r["summary"] == "CRITICAL: web01: http", timeout=15)
    critical = next(r for r in recs if r["summary"] == "CRITICAL: web01: http")
    assert critical["body"] == "demo-production · production\nHTTP CRITICAL - 503 Service Unavailable"
    assert critical["hints"].get("urgency") == 2          # critical urgency for a critical alert
    assert warning["hints"].get("urgency") == 1
    out = app.output()
    # The desktop backend was used: no console fallback.
    assert "[notification]" not in out and "desktop notifications off" not in out, out
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
        recs = notifyd.wait_for(lambda r: r["summary"] == "WARNING: LoadHigh on web02", timeout=15)
        # Pop-ups come in order: had the start-up alert raised one, it would be listed before.
        assert _summaries(recs) == ["WARNING: LoadHigh on web02"], recs
        assert recs[0]["body"] == "prod-am · production\nLoadHigh on web02"
        assert app.stop() == 0


def test_no_notification_service_falls_back_to_the_console_and_says_why_once(desktop, run_app, home, tmp_path):
    from support.dbus import PrivateBus
    with PrivateBus(tmp_path / "bus") as empty_bus:          # a session bus nobody serves pop-ups on
        assert not empty_bus.name_has_owner("org.freedesktop.Notifications")
        app = run_app(["run", "--demo"], clean_env(home, **desktop.xvfb.env, **empty_bus.env))
        app.wait_output("[notification] WARNING: app-staging-1: disk /var 91%", timeout=20)
        out = app.wait_output("[notification] CRITICAL: web01: http", timeout=15)
        reason = "desktop notifications off: no notification service (org.freedesktop.Notifications) " \
                 "on the session bus; printing them to the log instead"
        assert out.count("desktop notifications off") == 1 and reason in out, out
        assert "Traceback" not in out
        assert app.stop() == 0


def test_no_session_bus_falls_back_to_the_console_and_says_why_once(desktop, run_app, home):
    env = clean_env(home, **desktop.xvfb.env)
    assert "DBUS_SESSION_BUS_ADDRESS" not in env
    app = run_app(["run", "--demo"], env)
    app.wait_output("[notification] WARNING: app-staging-1: disk /var 91%", timeout=20)
    out = app.wait_output("[notification] CRITICAL: web01: http", timeout=15)
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
    recs = notifyd.wait_for(lambda r: r["summary"] == "WARNING: app-staging-1: disk /var 91%", timeout=20)
    warning = next(r for r in recs if r["summary"].startswith("WARNING"))
    assert "default" in warning["actions"]      # the pop-up is clickable
    notifyd.click(warning["id"], "default")
    end = time.monotonic() + 10
    while time.monotonic() < end and not (opened.exists() and opened.read_text().strip()):
        time.sleep(0.1)
    assert opened.exists(), f"no browser was opened\n{app.output()}"
    assert opened.read_text().splitlines() == [
        "https://monitoring.example.com/icingaweb2/icingadb/service?name=disk&host.name=app-staging-1"]
    assert app.stop() == 0
