"""The StatusNotifierItem tray icon on a real Wayland desktop: sway (headless) with waybar's tray
module as the tray host (tests/support/sway.py). grim screenshots show the icon waybar draws from
IconPixmap; the menu is driven over com.canonical.dbusmenu exactly as a host calls it
(tests/support/sni_host.py); "open" actions go through webbrowser to a BROWSER script that records
its argument."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from support.e2e import ARTIFACTS, FakeAlertmanager, am_alert, clean_env, colour_counts, palette
from support.procs import free_port
from support.sni_host import SniHost
from support.sway import SwayDesktop

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

STATES = ("ok", "warning", "critical", "handled_only", "unknown")
SETTLE = 1.0
SHOWN = "tray icon shown (StatusNotifierItem backend"


@pytest.fixture
def sway(tmp_path):
    with SwayDesktop() as desk:
        yield desk


@pytest.fixture
def browser(tmp_path):
    """BROWSER for the app: a script appending each URL it is asked to open to a file."""
    log = tmp_path / "opened.txt"
    log.write_text("")
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    script.chmod(0o755)

    class Browser:
        env = {"BROWSER": str(script)}

        @staticmethod
        def opened() -> list[str]:
            return log.read_text().splitlines()

        @staticmethod
        def wait_opened(url: str, timeout: float = 15) -> None:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if url in log.read_text().splitlines():
                    return
                time.sleep(0.1)
            raise AssertionError(f"{url} was not opened; opened: {log.read_text().splitlines()}")
    return Browser


@pytest.fixture
def host(sway):
    h = SniHost(sway.bus_address)
    yield h
    h.close()


def sni_env(home: Path, sway: SwayDesktop, **extra: str) -> dict[str, str]:
    env = clean_env(home, **sway.env, **extra)
    env.pop("PYSTRAY_BACKEND", None)
    return env


def wait_until(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s")


def tray_colours(path: Path, colours: dict[str, str]) -> dict[str, int]:
    """Palette colour counts in the bar only (the top 32 px, where waybar draws the tray)."""
    from PIL import Image
    bar = Image.open(path).convert("RGB").crop((0, 0, 800, 32))
    cropped = path.with_name(path.stem + "-bar.png")
    bar.save(cropped)
    return colour_counts(cropped, colours)


def test_icon_follows_the_demo_through_its_states(sway, host, run_app, home):
    pal = palette()
    colours = {k: v for k, v in pal.items() if isinstance(v, str) and v.startswith("#")}
    app = run_app(["run", "--demo"], sni_env(home, sway))
    app.wait_output(SHOWN, timeout=20)
    service = host.wait_registered()
    assert service.startswith("org.kde.StatusNotifierItem-") and service.endswith("/StatusNotifierItem")
    assert host.prop("Category") == "SystemServices" and host.prop("Title") == "secondline"
    assert host.prop("Menu") == "/MenuBar" and host.prop("ItemIsMenu") is False
    sizes = sorted(w for w, h, data in host.prop("IconPixmap") if w == h and len(data) == 4 * w * h)
    assert sizes == [16, 22, 24, 32, 48, 64]

    first_seen: dict[str, float] = {}
    shots: dict[str, dict[str, int]] = {}
    seen: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + 45          # the scenario's cycle is 24 s
    while len(shots) < len(STATES) and time.monotonic() < deadline:
        state = app.status()["state"]
        now = time.monotonic()
        if state in STATES and state not in shots:
            first_seen.setdefault(state, now)
            if now - first_seen[state] >= SETTLE:
                path = sway.screenshot(ARTIFACTS / "sni" / f"waybar-{state}.png")
                status, tooltip = host.prop("Status"), host.prop("ToolTip")
                doc = app.status()
                if doc["state"] == state:
                    shots[state] = tray_colours(path, colours)
                    seen[state] = (status, tooltip[2], doc["summary"])
        time.sleep(0.1)

    assert set(shots) == set(STATES), f"states captured: {sorted(shots)}\n{app.output()}"
    for state, counts in shots.items():
        # A 24 px disc of the state's colour in the bar, and no other state's colour to speak of.
        assert counts[state] >= 100, (f"waybar-{state}.png: the icon is not {colours[state]}", counts)
        for other, n in counts.items():
            if other != state:
                assert n < counts[state] / 10, (f"waybar-{state}.png shows {other}", counts)
        status, tip, summary = seen[state]
        assert tip == summary, (state, tip, summary)
        assert status == ("NeedsAttention" if state == "critical" else "Active"), (state, status)
    for member in ("NewIcon", "NewToolTip", "NewStatus"):
        assert host.signal_count(member) >= 1, (member, host.signals[-20:])
    assert "Traceback" not in app.output()
    assert app.stop() == 0


@pytest.fixture
def alertmanager():
    with FakeAlertmanager() as am:
        am.set_alerts([am_alert("HttpDown", "critical", "web01", "web01: http 503")])
        yield am


def am_toml(path: Path, url: str, port: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""[server]
port = {port}

[[sources]]
name = "prod-am"
type = "alertmanager"
group = "production"
interval = 600
timeout = 5
url = "{url}"
auth = "none"
""")
    return path


def test_menu_actions_through_dbusmenu(sway, host, browser, alertmanager, run_app, home, tmp_path):
    port = free_port()
    cfg = am_toml(tmp_path / "config.toml", alertmanager.url, port)
    app = run_app(["run", "--config", str(cfg)], sni_env(home, sway, **browser.env), port=port)
    app.wait_output(SHOWN, timeout=20)
    app.wait_status(lambda d: d["state"] == "critical", timeout=20, what="critical")
    host.wait_registered()

    wait_until(lambda: host.open_menu().find("production").children, 10, "the production submenu")
    menu = host.open_menu()
    top = menu.labels()
    assert top[0] == app.status()["summary"]
    for label in ("Open dashboard", "Refresh now", "Snooze notifications for 1 hour", "Reload config", "Quit"):
        assert label in top, (label, top)
    group = menu.find("production")
    source = group.find("prod-am")
    alert = source.children[0]
    assert "HttpDown on web01" in alert.label and "[critical]" in alert.label
    # What an Alertmanager source can do (no recheck; no Trello board configured): nothing it could only fail at.
    assert alert.labels() == ["Open", "Acknowledge"]
    assert menu.find("Snooze notifications").labels() == ["15 minutes", "1 hour", "Until the end of the shift"]

    # A left click on the icon (Activate) and "Open dashboard" open the dashboard.
    host.activate(10, 10)
    browser.wait_opened(f"http://127.0.0.1:{port}/")
    n_open = len(browser.opened())
    host.click(menu.find("Open dashboard"))
    wait_until(lambda: len(browser.opened()) > n_open, 15, "a second dashboard open")
    # "Open" on an alert opens the alert's link. (The click above marked everything seen: the alert's
    # label lost its "new" mark, so the host re-reads the menu as it does on LayoutUpdated.)
    alert_url = app.status()["sources"][0]["alerts"][0]["url"]
    assert alert_url
    host.click(host.open_menu().find("production").find("prod-am").children[0].find("Open"))
    browser.wait_opened(alert_url)

    # "Refresh now" polls the source at once (its interval is 10 minutes).
    polls = len(alertmanager.requests)
    host.click(menu.find("Refresh now"))
    wait_until(lambda: len(alertmanager.requests) > polls, 15, "a poll after Refresh now")
    # "Acknowledge" on the alert silences it in Alertmanager (the same path as POST /actions/acknowledge).
    host.click(host.open_menu().find("production").find("prod-am").children[0].find("Acknowledge"))
    wait_until(lambda: alertmanager.posts, 15, "a silence after Acknowledge")
    path, silence = alertmanager.posts[0]
    assert path == "/api/v2/silences"
    assert {"name": "alertname", "value": "HttpDown", "isRegex": False} in \
        [{k: m[k] for k in ("name", "value", "isRegex")} for m in silence["matchers"]], silence

    # Snooze from the menu: the status document says so, the menu is rebuilt (LayoutUpdated) and
    # now offers "Resume notifications".
    updates = host.signal_count("LayoutUpdated")
    host.click(host.open_menu().find("Snooze notifications for 1 hour"))
    doc = app.wait_status(lambda d: d["notifications"].get("snoozed_until"), timeout=15, what="snoozed")
    wait_until(lambda: host.signal_count("LayoutUpdated") > updates, 10, "LayoutUpdated after the snooze")
    menu = host.open_menu()
    assert "Resume notifications" in menu.labels() and "Snooze notifications for 1 hour" not in menu.labels()
    assert any(line.startswith("Notifications snoozed until") for line in menu.labels()), menu.labels()
    host.click(menu.find("Resume notifications"))
    app.wait_status(lambda d: not d["notifications"].get("snoozed_until"), timeout=15, what="resumed")
    assert doc["notifications"]["snoozed_until"]

    # A click on an entry of an outdated layout that no longer exists is refused, not misrouted.
    with pytest.raises(RuntimeError, match="InvalidArgs"):
        host.call(host.item_name, host.menu_path, "com.canonical.dbusmenu", "Event", "isvu",
                  [99999, "clicked", __import__("dbus_fast").Variant("i", 0), 0])

    # Quit ends the app cleanly.
    host.click(host.open_menu().find("Quit"))
    app.proc.wait(20)
    assert app.proc.returncode == 0
    assert "Traceback" not in app.output()


def test_tray_host_restart_brings_the_icon_back(sway, run_app, home):
    colours = {k: v for k, v in palette().items() if isinstance(v, str) and v.startswith("#")}
    app = run_app(["run", "--demo"], sni_env(home, sway))
    app.wait_output(SHOWN, timeout=20)
    wait_until(lambda: sum(tray_colours(sway.screenshot(ARTIFACTS / "sni" / "restart-before.png"),
                                        colours).values()) >= 100, 15, "the icon in the bar")

    sway.stop_waybar()
    app.wait_output("the tray host went away", timeout=15)
    shot = tray_colours(sway.screenshot(ARTIFACTS / "sni" / "restart-gone.png"), colours)
    assert sum(shot.values()) < 20, shot          # no bar, no icon

    sway.start_waybar()
    app.wait_output("tray icon registered again", timeout=20)
    wait_until(lambda: sum(tray_colours(sway.screenshot(ARTIFACTS / "sni" / "restart-after.png"),
                                        colours).values()) >= 100, 15, "the icon back in the bar")
    assert app.output().count("the tray host went away") == 1
    assert "Traceback" not in app.output()
    assert app.stop() == 0


def test_session_bus_going_away_leaves_the_app_running(sway, run_app, home):
    app = run_app(["run", "--demo"], sni_env(home, sway))
    app.wait_output(SHOWN, timeout=20)
    version = app.status()["state"]
    sway.stop_bus()
    out = app.wait_output("the session bus went away", timeout=15)
    line = next(x for x in out.splitlines() if "the session bus went away" in x)
    assert "the endpoint and notifications keep running" in line, line
    # The endpoint keeps serving the demo's changes, and the notifier keeps working through them
    # (its pop-ups have no bus to go to: each says so in the log, with its title).
    seen = {version}
    end = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < end:
        seen.add(app.status()["state"])
        time.sleep(0.2)
    assert len(seen) >= 3, seen
    assert app.proc.poll() is None
    assert "Traceback" not in app.output()
    assert app.stop() == 0


def test_doctor_names_the_statusnotifieritem_backend(sway, home):
    from support.e2e import secondline
    out = secondline(["doctor"], sni_env(home, sway)).stdout
    line = next(x for x in out.splitlines() if x.startswith("tray "))
    assert "StatusNotifierItem over D-Bus: a StatusNotifierItem host (org.kde.StatusNotifierWatcher) is on the " \
           "session bus" in line, out


def test_app_started_before_the_tray_host_shows_the_icon_when_it_starts(sway, run_app, home):
    """At login the app may start before the panel: on Wayland (no X display) it waits on the bus."""
    sway.stop_waybar()
    app = run_app(["run", "--demo"], sni_env(home, sway))
    app.wait_output("no StatusNotifierItem host answers on the session bus", timeout=20)
    sway.start_waybar()
    out = app.wait_output(SHOWN, timeout=20)
    assert out.count("no StatusNotifierItem host answers") == 1, out
    assert "Traceback" not in out
    assert app.stop() == 0
