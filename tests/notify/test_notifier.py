"""Pop-ups come from events: composed, grouped in bursts, spaced, silent while snoozed."""
from datetime import datetime, timezone

import pytest

from support.faults import wait_until
from tray.core.model import Alert, Event, EventKind, Severity
from tray.notify.notifier import ConsoleBackend, Notifier, compose, default_decide
from tray.core.rules import reduce
from support.builders import CaptureNotifier

SNAP = reduce([], datetime.now(timezone.utc))


def ev(kind=EventKind.RAISED, sev="critical", group="production", handled=False, pending=False, id="a", **kw):
    a = Alert(source="s1", id=id, title=f"web01: {id}", severity=Severity(sev), detail="HTTP 503",
              url=f"https://mon.example.com/{id}", handled=handled, pending=pending)
    return Event(kind, "s1", group, alert=a, **kw)


def test_single_event_text_and_link():
    n = compose([ev()], "http://127.0.0.1:1/")
    assert n.title == "Critical: web01: a" and "s1 · production" in n.body and "HTTP 503" in n.body
    assert n.url == "https://mon.example.com/a" and n.critical


def test_burst_combined():
    n = compose([ev(id="a"), ev(id="b"), ev(id="c", sev="warning")], "http://127.0.0.1:1/")
    assert n.title == "3 new alerts in production"
    assert n.url == "http://127.0.0.1:1/"     # a combined pop-up opens the dashboard
    assert "Critical: web01: a" in n.body


def test_unreachable_and_recovered_text():
    n = compose([Event(EventKind.UNREACHABLE, "pd", "team", reason="rate limited")], None)
    assert n.title == "pd (team) cannot be read" and n.body == "rate limited"
    assert compose([Event(EventKind.RECOVERED, "pd", "team")], None).title == "pd (team) can be read again"


def test_sources_unreadable_together_are_one_popup_naming_each():
    n = compose([Event(EventKind.UNREACHABLE, f"s{i}", "default", reason=f"reason {i}") for i in range(3)], None)
    assert n.title == "3 sources cannot be read in default" and n.state == "unknown"
    assert n.body.splitlines() == ["s0: reason 0", "s1: reason 1", "s2: reason 2"]


def test_recovery_names_what_recovered_not_its_old_output():
    n = compose([ev(EventKind.CLEARED, sev="warning")], None)
    assert n.title == "Recovered: web01: a"
    assert n.body == "s1 · production\nwas warning" and "HTTP 503" not in n.body
    acked = Alert(source="s1", id="b", title="web01: b", severity=Severity.CRITICAL, detail="HTTP 503",
                  handled=True, handled_reason="acknowledged")
    n = compose([Event(EventKind.CLEARED, "s1", "production", alert=acked, previous=acked)], None)
    assert n.body == "s1 · production\nwas critical, handled (acknowledged)" and not n.critical


@pytest.mark.parametrize("events,state", [
    ([ev()], "critical"),
    ([ev(sev="warning")], "warning"),
    ([ev(sev="unknown")], "unknown"),
    ([ev(EventKind.CLEARED)], "ok"),
    ([Event(EventKind.UNREACHABLE, "pd", "team", reason="x")], "unknown"),
    ([Event(EventKind.RECOVERED, "pd", "team")], "ok"),
    ([ev(EventKind.CLEARED, id="a"), ev(sev="warning", id="b")], "warning"),      # the worst of a burst
    ([ev(sev="warning", id="a"), ev(id="b"), ev(EventKind.CLEARED, id="c")], "critical"),
])
def test_popup_icon_is_the_state_it_is_about(events, state):
    assert compose(events, None).state == state


@pytest.mark.parametrize("event,held", [
    (ev(), None),
    (ev(pending=True), "soft or pending state"),
    (ev(handled=True), "already handled"),
    (ev(sev="info"), "already handled"),
    (ev(EventKind.CHANGED, handled=True), "became handled"),
    (ev(EventKind.CLEARED), None),
])
def test_default_decide(event, held):
    assert default_decide(event, SNAP) == held


def test_notifier_groups_burst_and_keeps_gap():
    cap = CaptureNotifier()
    n = Notifier(cap, min_gap=1.5)
    n.on_change(SNAP, [ev(id="a")])
    n.on_change(SNAP, [ev(id="b")])      # within the burst window: one pop-up
    wait_until(lambda: len(cap.shown) == 1, timeout=5)
    assert cap.shown[0].title == "2 new alerts in production"
    n.on_change(SNAP, [ev(id="c")])
    wait_until(lambda: len(cap.shown) == 2, timeout=6)
    n.close()


def test_held_events_are_recorded_and_snooze_checked_at_send_time():
    cap = CaptureNotifier()
    n = Notifier(cap, min_gap=0, decide=lambda e, s: "rules: staging warning is off" if e.group == "staging" else None)
    n.on_change(SNAP, [ev(group="staging")])
    assert n.held[-1][1] == "rules: staging warning is off"
    n.is_snoozed = lambda: True          # snoozed while the burst gathers: nothing shown
    n.on_change(SNAP, [ev(id="z")])
    import time
    time.sleep(1.5)
    assert cap.shown == []
    n.close()


def test_console_backend_prints(capsys):
    import logging
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        ConsoleBackend().show(compose([ev()], None))
    finally:
        root.handlers = saved
    assert "[notification] Critical: web01: a" in capsys.readouterr().out


def test_no_session_bus_reason(monkeypatch):
    from tray.notify import notifier as notify
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert "no D-Bus session bus" in notify.notification_service_reason()
    assert notify.make_backend(False).name == "console"
