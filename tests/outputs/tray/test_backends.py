"""The StatusNotifierItem backend's pure parts (menu layout, pixmaps, status) and the backend choice,
without a bus or a display. The real thing runs under sway + waybar in tests/outputs/tray/test_sni.py."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pytest
from dbus_fast import DBusError

from tray.outputs.tray import display as probes
from tray.outputs.tray import runner as trayrunner
from tray.outputs.tray.dbusmenu import MenuLayout, escape
from tray.core.model import Alert, Severity
from tray.core.rules import reduce, source_snapshot
from tray.outputs.tray.sni import SIZES, needs_attention, pixmaps
from tray.outputs.tray.menu import MenuInputs, menu_for, menu_model

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def snap(*alerts: Alert):
    return reduce([source_snapshot(name="mon", type="icinga2", group="production", alerts=alerts, checked_at=NOW,
                                   error=None, capabilities=("acknowledge", "recheck", "trello"))], NOW)


CRIT = Alert(source="mon", id="web!http", title="web_01: http", severity=Severity.CRITICAL, url="https://m/x")
WARN = Alert(source="mon", id="db!disk", title="db: disk", severity=Severity.WARNING)


def labels(layout: MenuLayout, parent: int = 0) -> list[str]:
    return [layout.nodes[c].props["label"].value for c in layout.nodes[parent].children
            if "label" in layout.nodes[c].props]


def test_layout_from_the_menu_model():
    layout = MenuLayout()
    assert layout.update(menu_model(snap(CRIT, WARN), snoozed=False))
    top = labels(layout)
    assert top[0].startswith("secondline: 1 critical")
    assert "Open dashboard" in top and "Quit" in top
    seps = [c for c in layout.nodes[0].children if layout.nodes[c].props.get("type") is not None]
    assert seps and all(layout.nodes[c].props["type"].value == "separator" for c in seps)
    group = next(c for c in layout.nodes[0].children
                 if layout.nodes[c].props.get("label") is not None and
                 layout.nodes[c].props["label"].value.startswith("production"))
    assert layout.nodes[group].props["children-display"].value == "submenu"
    source = layout.nodes[group].children[0]
    alert = layout.nodes[source].children[0]
    # dbusmenu reads '_' as an access key: a title's underscore is doubled.
    assert layout.nodes[alert].props["label"].value == "[critical] web__01: http"
    assert labels(layout, alert) == ["Open", "Acknowledge", "Recheck", "Record on Trello"]
    info = layout.nodes[layout.nodes[0].children[0]]
    assert info.props["enabled"].value is False and info.action is None
    ack = layout.nodes[alert].children[1]
    assert layout.nodes[ack].action == ("ack", "mon", "web!http")


def test_escape():
    assert escape("disk_usage on db_1") == "disk__usage on db__1"


def test_ids_stay_for_unchanged_entries_and_the_revision_moves_only_on_change():
    layout = MenuLayout()
    layout.update(menu_model(snap(CRIT, WARN), snoozed=False))
    rev = layout.revision
    ids = {n.props["label"].value: i for i, n in layout.nodes.items() if "label" in n.props}
    assert not layout.update(menu_model(snap(CRIT, WARN), snoozed=False))
    assert layout.revision == rev
    assert layout.update(menu_model(snap(CRIT, WARN), snoozed=True))
    assert layout.revision == rev + 1
    after = {n.props["label"].value: i for i, n in layout.nodes.items() if "label" in n.props}
    for label in ("Open dashboard", "Refresh now", "Quit", "[critical] web__01: http"):
        assert after[label] == ids[label], label
    assert "Resume notifications" in after and "Resume notifications" not in ids
    gone = ids["Snooze notifications for 1 hour"]
    with pytest.raises(DBusError):
        layout.node(gone)          # an id of the old layout is refused, never reused
    assert gone not in after.values()


def test_get_layout_depth_and_properties():
    layout = MenuLayout()
    layout.update(menu_model(snap(CRIT), snoozed=False))
    item_id, props, children = layout.layout(0, 0, [])
    assert item_id == 0 and children == []
    _, _, children = layout.layout(0, 1, [])
    assert children and all(c.value[2] == [] for c in children)
    _, _, deep = layout.layout(0, -1, ["label"])
    group = next(c.value for c in deep if c.value[2])
    assert group[2][0].value[2], "all levels"
    assert all(set(c.value[1]) <= {"label"} for c in deep)
    got = layout.group_properties([0, 1, 99999], ["label"])
    assert [g[0] for g in got] == [0, 1]
    with pytest.raises(DBusError):
        layout.layout(99999, -1, [])


def test_pixmaps_are_argb_in_network_byte_order_at_every_size():
    maps = pixmaps("critical", 0)
    assert [(w, h) for w, h, _ in maps] == [(s, s) for s in SIZES]
    for w, h, data in maps:
        assert len(data) == 4 * w * h
    w, h, data = maps[-1]                        # 64 px: the disc's colour at its left edge, mid-height
    x, y = 8, 32
    a, r, g, b = data[4 * (y * w + x): 4 * (y * w + x) + 4]
    assert (a, r, g, b) == (255, 0xff, 0x32, 0x00)
    assert data[:4] == b"\x00\x00\x00\x00"      # the corner is transparent


def test_needs_attention_only_for_unhandled_critical():
    assert needs_attention(snap(CRIT))
    assert not needs_attention(snap(WARN))
    acked = Alert(source="mon", id="x", title="x", severity=Severity.CRITICAL, handled=True, handled_reason="acknowledged")
    assert not needs_attention(snap(acked))


class FakeController:
    def __init__(self) -> None:
        self.subs: list = []
        self.done: list = []

    def latest(self):
        return snap(CRIT)

    def subscribe(self, fn):
        self.subs.append(fn)

    def menu_inputs(self):
        return MenuInputs(snoozed=True, extra_lines=("On call now",))

    def perform(self, action):
        self.done.append(action)


def test_menu_for_reads_the_controller():
    m = menu_for(FakeController())
    assert m[1] == ("On call now", None)
    assert ("Resume notifications", ("resume",)) in m


@pytest.fixture
def probe(monkeypatch):
    state = {"watcher": (False, False, "no D-Bus session bus"), "x_error": None, "tray": True}
    monkeypatch.setattr(probes, "sni_watcher", lambda env: state["watcher"])
    monkeypatch.setattr(probes, "x_tray_state", lambda d: (state["x_error"], None if state["x_error"] else state["tray"]))
    monkeypatch.setattr(probes, "system_tray_owner", lambda d: state["tray"])
    return state


def test_choice(probe):
    choose = trayrunner.choose
    assert choose({}, "darwin").backend == "pystray"
    assert choose({}, "win32").backend == "pystray"
    assert choose({}, "linux").key == "no-display"
    probe["watcher"] = (True, True, "")
    assert choose({"DISPLAY": ":0"}, "linux").backend == "sni"
    assert choose({"WAYLAND_DISPLAY": "wayland-0"}, "linux").backend == "sni"
    assert choose({"DISPLAY": ":0", "SECONDLINE_TRAY": "pystray"}, "linux").backend == "pystray"
    assert "needs an X display" in choose({"WAYLAND_DISPLAY": "w", "SECONDLINE_TRAY": "pystray"}, "linux").reason
    probe["watcher"] = (True, False, "no StatusNotifierItem host")
    wait = choose({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert (wait.backend, wait.key) == ("sni", "sni-wait")
    assert choose({"DISPLAY": ":0"}, "linux").backend == "pystray"       # X with an XEmbed tray
    assert choose({"DISPLAY": ":0", "SECONDLINE_TRAY": "sni"}, "linux").backend == "sni"
    probe["tray"] = None
    unsure = choose({"DISPLAY": ":0"}, "linux")
    assert unsure.backend is None and unsure.quiet
    probe["tray"] = False
    no_host = choose({"DISPLAY": ":0"}, "linux")
    assert no_host.backend is None and no_host.key == "no-tray-host" and "trayer" in no_host.reason
    probe["x_error"] = "Connection refused"
    gone = choose({"DISPLAY": ":99"}, "linux")
    assert gone.backend is None and gone.key == "x-unreachable" and ":99 cannot be reached" in gone.reason
    probe["watcher"] = (False, False, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
    assert choose({"WAYLAND_DISPLAY": "wayland-0"}, "linux").key == "no-bus"
    assert choose({"SECONDLINE_TRAY": "sni", "DISPLAY": ":0"}, "linux").key == "no-bus"


class FakeBackend:
    backend = "fake"

    def __init__(self) -> None:
        self.changes: list = []
        self.stopped = threading.Event()

    def on_change(self, snap, events):
        self.changes.append(snap)

    def run(self):
        self.stopped.wait(10)
        return "stopped"

    def stop(self):
        self.stopped.set()


def test_runner_says_a_reason_once_retries_then_runs_and_stops(monkeypatch, caplog):
    choices = [trayrunner.Choice(None, "no system tray on :5", "no-tray-host")] * 2 + \
              [trayrunner.Choice(None, "cannot tell", "x-unsure", quiet=True)] + \
              [trayrunner.Choice(None, "no system tray on :5", "no-tray-host")] + \
              [trayrunner.Choice("pystray", "a tray", "pystray")]
    monkeypatch.setattr(trayrunner, "choose", lambda env=None: choices.pop(0) if len(choices) > 1 else choices[0])
    fake = FakeBackend()
    controller = FakeController()
    stop = threading.Event()
    runner = trayrunner.TrayRunner(controller, stop, env={}, retry=0.01)
    monkeypatch.setattr(runner, "_make", lambda choice: fake)
    caplog.set_level(logging.DEBUG, logger="tray.outputs.tray.runner")
    t = threading.Thread(target=runner.run)
    t.start()
    for _ in range(500):
        if runner.current is fake:
            break
        threading.Event().wait(0.01)
    assert runner.backend == "fake"
    controller.subs[0](snap(WARN), [])
    assert len(fake.changes) == 1
    stop.set()
    t.join(10)
    assert not t.is_alive() and fake.stopped.is_set()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["no system tray on :5"]
    assert sum("still no tray icon" in r.getMessage() for r in caplog.records) == 3


def test_doctor_says_which_backend_runs_and_why(probe):
    from tray.cli import doctor
    probe["watcher"] = (True, True, "")
    line = dict(doctor.check_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux"))["tray"]
    assert line.startswith("StatusNotifierItem over D-Bus: a StatusNotifierItem host"), line
    probe["watcher"] = (True, False, "no StatusNotifierItem host (org.kde.StatusNotifierWatcher) on the session bus")
    line = dict(doctor.check_display({"DISPLAY": ":0"}, "linux"))["tray"]
    assert line.startswith("pystray xorg") or line.startswith("pystray appindicator"), line
    probe["tray"] = False
    line = dict(doctor.check_display({"DISPLAY": ":0"}, "linux"))["tray"]
    assert line.startswith("none right now, the app retries: no system tray on the X display :0"), line
