"""Applying /v1/events events to the live alert set, and ordering them against polls (pure)."""
from __future__ import annotations

import pytest

from ichelp import summary
from tray.sources.icinga2 import ObjectState, View
from tray.sources.icinga2_stream import BadEvent, LiveState, apply_event, cib_counters
from tray.errors import SourceError

T = 1767254400.0
VIEW = View(source="ic")


def state_change(host, service=None, state=2.0, *, ts=T + 10, state_type=1.0, ack=False, dt=0.0,
                 output="boom", reachable=True):
    ev = {"type": "StateChange", "timestamp": ts, "host": host, "state": state, "state_type": state_type,
          "acknowledgement": ack, "downtime_depth": dt,
          "check_result": {"output": output, "exit_status": 0, "state": state,
                           "vars_after": {"reachable": reachable, "state": state, "state_type": state_type}}}
    if service is not None:
        ev["service"] = service
    return ev


def ack(host, service=None, *, cleared=False, ts=T + 10):
    ev = {"type": "AcknowledgementCleared" if cleared else "AcknowledgementSet", "timestamp": ts,
          "host": host, "state": 2.0, "state_type": 1.0, "author": "a", "comment": "c"}
    if service is not None:
        ev["service"] = service
    return ev


def downtime(host, service="", *, removed=False, ts=T + 10):
    return {"type": "DowntimeRemoved" if removed else "DowntimeStarted", "timestamp": ts,
            "downtime": {"host_name": host, "service_name": service, "author": "a", "comment": "c"}}


def obj(host, service=None, state=2, **kw):
    return ObjectState(host=host, service=service, host_display=host, service_display=service, state=state, **kw)


def live_with(*objects, poll_time=T):
    live = LiveState(VIEW)
    live.finish_poll(live.begin_poll(), list(objects), poll_time)
    return live


CASES = [
    ("new critical service appears", [], state_change("h", "s", 2.0), [("h!s", "critical", None, False)]),
    ("service recovers", [obj("h", "s")], state_change("h", "s", 0.0), []),
    ("warning becomes critical", [obj("h", "s", 1)], state_change("h", "s", 2.0), [("h!s", "critical", None, False)]),
    ("soft change is pending", [], state_change("h", "s", 2.0, state_type=0.0), [("h!s", "critical", None, True)]),
    ("state change carries the ack flag", [], state_change("h", "s", 1.0, ack=True),
     [("h!s", "warning", "acknowledged", False)]),
    ("state change carries downtime depth", [], state_change("h", "s", 1.0, dt=1.0),
     [("h!s", "warning", "downtime", False)]),
    ("ack set", [obj("h", "s")], ack("h", "s"), [("h!s", "critical", "acknowledged", False)]),
    ("ack cleared", [obj("h", "s", acknowledged=True)], ack("h", "s", cleared=True),
     [("h!s", "critical", None, False)]),
    ("ack on an OK object changes nothing", [], ack("h", "s"), []),
    ("downtime started", [obj("h", "s")], downtime("h", "s"), [("h!s", "critical", "downtime", False)]),
    ("downtime removed", [obj("h", "s", downtime_depth=1)], downtime("h", "s", removed=True),
     [("h!s", "critical", None, False)]),
    ("host downtime (empty service_name)", [obj("h")], downtime("h"), [("h", "critical", "downtime", False)]),
    ("host goes down: its services turn pending", [obj("h", "s")], state_change("h", None, 1.0),
     [("h", "critical", None, False), ("h!s", "critical", None, True)]),
    ("host comes back: its services raise again", [obj("h"), obj("h", "s", host_down=True)],
     state_change("h", None, 0.0), [("h!s", "critical", None, False)]),
    ("host unreachable", [], state_change("h", None, 1.0, reachable=False), [("h", "unknown", None, False)]),
    ("new service on a down host", [obj("h")], state_change("h", "s", 2.0),
     [("h", "critical", None, False), ("h!s", "critical", None, True)]),
]


@pytest.mark.parametrize("what,before,event,expected", CASES, ids=[c[0] for c in CASES])
def test_apply(what, before, event, expected):
    live = live_with(*before)
    alerts, _ = live.apply(event)
    now = alerts if alerts is not None else live.alerts()
    assert summary(now) == expected


def test_unchanged_event_publishes_nothing():
    live = live_with(obj("h", "s", acknowledged=True))
    assert live.apply(ack("h", "s")) == (None, False)


def test_downtime_removed_asks_for_a_reconciling_poll():
    live = live_with(obj("h", "s", downtime_depth=2))
    alerts, needs_poll = live.apply(downtime("h", "s", removed=True))
    assert needs_poll
    assert summary(alerts) == [("h!s", "critical", "downtime", False)]   # still one left


def test_since_moves_only_when_the_state_changes():
    live = live_with(obj("h", "s", 2, last_state_change=T - 100))
    [a], _ = live.apply(state_change("h", "s", 2.0, ts=T + 5, output="still bad"))
    assert a.since.timestamp() == T - 100 and a.detail == "still bad"
    [a], _ = live.apply(state_change("h", "s", 1.0, ts=T + 6))
    assert a.since.timestamp() == T + 6


def test_display_names_survive_events():
    live = live_with(ObjectState(host="h", service="s", host_display="Host H", service_display="Svc S", state=1))
    [a], _ = live.apply(state_change("h", "s", 2.0))
    assert a.title == "Host H: Svc S"


def test_late_event_older_than_the_last_poll_is_dropped():
    # The poll (answered at T+100) already shows h!s OK; a StateChange stamped T+50 arrives late.
    live = live_with(poll_time=T + 100)
    assert live.apply(state_change("h", "s", 2.0, ts=T + 50)) == (None, False)
    assert live.alerts() == []


def test_event_during_a_poll_is_replayed_over_its_result():
    live = live_with()
    token = live.begin_poll()                               # poll in flight, its answer is older...
    alerts, _ = live.apply(state_change("h", "s", 2.0, ts=T + 200))
    assert summary(alerts) == [("h!s", "critical", None, False)]
    final = live.finish_poll(token, [], T + 199.5)          # ...than the event: the event stays
    assert summary(final) == [("h!s", "critical", None, False)]


def test_poll_newer_than_an_event_in_flight_wins():
    live = live_with()
    token = live.begin_poll()
    live.apply(state_change("h", "s", 2.0, ts=T + 10))
    assert live.finish_poll(token, [], T + 20) == []        # the poll saw the recovery after it


def test_events_before_a_poll_started_are_not_replayed():
    live = live_with()
    live.apply(state_change("h", "s", 2.0, ts=T + 200))
    token = live.begin_poll()
    assert live.finish_poll(token, [], T + 150) == []


def test_failed_poll_keeps_the_live_set():
    live = live_with(obj("h", "s"))
    live.begin_poll()
    live.abort_poll()
    assert summary(live.alerts()) == [("h!s", "critical", None, False)]


@pytest.mark.parametrize("bad", [
    None, [], {"type": "Nope"}, {"type": "StateChange"}, {"type": "StateChange", "host": "h", "timestamp": T},
    {"type": "StateChange", "host": "h", "timestamp": T, "state": "2"},
    {"type": "StateChange", "host": 3, "timestamp": T, "state": 2},
    {"type": "StateChange", "host": "h", "service": 5, "timestamp": T, "state": 2},
    {"type": "DowntimeStarted", "timestamp": T}, {"type": "DowntimeStarted", "downtime": {"host_name": ""}},
    {"type": "AcknowledgementSet", "timestamp": T},
])
def test_bad_events_raise_bad_event(bad):
    with pytest.raises(BadEvent):
        apply_event({}, bad)


def test_cib_counters_keep_only_state_counters():
    c = cib_counters({"results": [{"status": {"num_services_critical": 1.0, "uptime": 5.2,
                                              "num_hosts_down": 0.0, "avg_latency": None}}]})
    assert c == {"num_services_critical": 1.0, "num_hosts_down": 0.0}
    for bad in ({}, {"results": []}, {"results": [{"status": []}]}, []):
        with pytest.raises(SourceError):
            cib_counters(bad)
