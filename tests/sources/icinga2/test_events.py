"""Applying /v1/events events to the live alert set, and ordering them against polls (pure)."""
from __future__ import annotations

import pytest

from .helpers import summary
from tray.sources.icinga2.parse import ObjectState, View
from tray.sources.icinga2.live import BadEvent, LiveState, apply_event
from tray.sources.icinga2.stream import cib_counters
from tray.core.errors import SourceError

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


class Clock:
    def __init__(self, now=T):
        self.now = now

    def __call__(self):
        return self.now


def live_with(*objects, clock=None):
    live = LiveState(VIEW, clock or Clock())
    live.finish_poll(live.begin_poll(), list(objects))
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


def test_a_new_problem_from_the_stream_takes_the_display_names_a_poll_would_show():
    live = live_with()
    ev = state_change("h", "s", 2.0)
    assert live.names_missing(ev) == ("h", "s")          # never seen: the stream must ask for them
    live.learn_names("h", "Host H", "s", "Svc S")
    assert live.names_missing(ev) is None
    [a], _ = live.apply(ev)
    assert a.title == "Host H: Svc S"
    assert live.names_missing(state_change("h", "s", 0.0)) is None     # a recovery needs no title
    assert live.names_missing(ack("h", "s")) is None


def test_display_names_learnt_from_a_poll_serve_a_later_event():
    live = live_with()
    seen = ObjectState(host="h", service="s", host_display="Host H", service_display="Svc S", state=1)
    live.finish_poll(live.begin_poll(), [seen])
    live.finish_poll(live.begin_poll(), [])                  # recovered: gone from the live set
    ev = state_change("h", "s", 2.0, ts=T + 500)
    assert live.names_missing(ev) is None
    [a], _ = live.apply(ev)
    assert a.title == "Host H: Svc S"


def test_display_names_answer_is_read_or_refused_purely():
    from tray.sources.icinga2.parse import display_names
    svc = {"results": [{"name": "h!s", "attrs": {"display_name": "Svc S"},
                        "joins": {"host": {"display_name": "Host H"}}}]}
    assert display_names(svc, "h", "s") == ("Host H", "Svc S")
    assert display_names({"results": [{"attrs": {"display_name": "Host H"}}]}, "h", None) == ("Host H", None)
    assert display_names({"results": [{"attrs": {"display_name": ""}, "joins": {}}]}, "h", "s") == ("h", "s")
    for bad in (None, [], {"results": []}, {"results": [1]}, {"results": [{"attrs": 3}]}, {"results": [{}, {}]}):
        assert display_names(bad, "h", "s") is None


def test_late_event_older_than_the_last_poll_is_dropped():
    clock = Clock(T + 10.0)
    live = live_with(clock=clock)
    live.apply(state_change("h", "x", 2.0, ts=T + 10.0))     # an on-time event: learns the clock offset (0)
    clock.now = T + 100
    live.finish_poll(live.begin_poll(), [])                  # a poll sent at T+100 shows h!s OK
    clock.now = T + 104                                      # a StateChange stamped T+50 arrives late
    assert live.apply(state_change("h", "s", 2.0, ts=T + 50)) == (None, False)
    assert live.alerts() == []
    assert summary(live.apply(state_change("h", "s", 2.0, ts=T + 103.9))[0]) == [("h!s", "critical", None, False)]


def test_nothing_is_dropped_before_the_clock_offset_is_known():
    clock = Clock(T + 100)
    live = live_with(clock=clock)
    live.finish_poll(live.begin_poll(), [])
    alerts, _ = live.apply(state_change("h", "s", 2.0, ts=T + 50), received=T + 100)
    assert summary(alerts) == [("h!s", "critical", None, False)]


def test_server_clock_behind_ours_is_learnt():
    # The server runs 30 s behind: on-time events arrive 30 s "after" their stamp.
    clock = Clock(T + 30)
    live = live_with(clock=clock)
    live.apply(state_change("h", "x", 1.0, ts=T))
    clock.now = T + 130
    live.finish_poll(live.begin_poll(), [])                  # sent at server time T+100
    assert live.apply(state_change("h", "s", 2.0, ts=T + 99)) == (None, False)      # older: dropped
    assert live.apply(state_change("h", "s", 2.0, ts=T + 101))[0]                    # newer: applied


def test_event_during_a_poll_is_replayed_over_its_result():
    clock = Clock(T + 190)
    live = live_with(clock=clock)
    live.apply(state_change("h", "x", 1.0, ts=T + 190))      # offset 0
    token = live.begin_poll()                                # poll sent at T+190, its answer lacks...
    alerts, _ = live.apply(state_change("h", "s", 2.0, ts=T + 200), received=T + 200)
    assert ("h!s", "critical", None, False) in summary(alerts)
    final = live.finish_poll(token, [])                      # ...the event after it: the event stays
    assert summary(final) == [("h!s", "critical", None, False)]


def test_poll_newer_than_an_event_in_flight_wins():
    clock = Clock(T + 5)
    live = live_with(clock=clock)
    live.apply(state_change("h", "x", 1.0, ts=T + 5))        # offset 0
    clock.now = T + 20
    token = live.begin_poll()                                # sent at T+20
    live.apply(state_change("h", "s", 2.0, ts=T + 10))       # a late event stamped before the poll
    assert live.finish_poll(token, []) == []                 # the poll's answer (OK) wins


def test_events_before_a_poll_started_are_not_replayed():
    live = live_with()
    live.apply(state_change("h", "s", 2.0, ts=T + 200))
    token = live.begin_poll()
    assert live.finish_poll(token, []) == []


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


def test_poll_budget_polls_cheap_servers_at_once_and_spaces_expensive_polls():
    from tray.sources.icinga2.stream import PollBudget
    b = PollBudget()
    assert b.changed(100.0, 0.03)                  # a 30 ms poll: asked for at once
    assert b.changed(100.25, 0.03)                 # and again at the next check (gap 0.09 s)
    b = PollBudget()
    assert b.changed(100.0, 1.5)                   # a 1.5 s poll (50,000 services): gap 4.5 s
    assert not b.changed(101.0, 1.5)               # a change in the gap waits...
    assert not b.due(104.0, 1.5)
    assert b.due(104.5, 1.5)                       # ...and is polled when the gap ends
    assert not b.due(110.0, 1.5)                   # nothing pending: nothing asked


def test_detector_pace_backs_off_where_the_counters_are_expensive():
    from tray.sources.icinga2.stream import DetectorPace
    p = DetectorPace(0.25)
    assert p.interval == 0.25
    p.answered(0.002)                              # 1,000 services: as configured
    assert p.interval == 0.25
    for spike in (0.076, 0.03, 0.002, 0.001):      # the odd slow answer does not slow it down
        p.answered(spike)
    assert p.interval == 0.25
    for _ in range(20):
        p.answered(0.054)                          # 50,000 services: ~1 s, 5 % of a core
    assert 1.0 <= p.interval <= 1.1
    for _ in range(20):
        p.answered(10.0)                           # a server in trouble: never slower than 30 s
    assert p.interval == 30.0
