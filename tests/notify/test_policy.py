"""The notification rules matrix: event x rules x shift x on-call x snooze -> pop up, or why not."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

from tray.core.errors import ConfigError
from tray.core.model import Alert, Event, EventKind, Severity
from tray.notify.policy import Decision, NotificationRules, decide

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
LONDON = ZoneInfo("Europe/London")

CRIT, WARN, UNKN, INFO = Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN, Severity.INFO


def A(sev=CRIT, **kw) -> Alert:
    return Alert(source="icinga", id="web1!http", title="web1 http", severity=sev, **kw)


def raised(sev=CRIT, group="production", **kw) -> Event:
    return Event(EventKind.RAISED, "icinga", group, alert=A(sev, **kw))


def changed(prev: Alert, now: Alert, group="production") -> Event:
    return Event(EventKind.CHANGED, "icinga", group, alert=now, previous=prev)


def cleared(prev: Alert, group="production") -> Event:
    return Event(EventKind.CLEARED, "icinga", group, alert=None, previous=prev)


TEAM = NotificationRules.from_dict({
    "rules": {"production": ["critical", "warning", "unknown"], "staging": ["critical"], "integration": []},
}, "c.toml")
STRICT_DEFAULT = NotificationRules.from_dict({"rules": {"*": ["critical"], "production": ["critical", "warning"]}}, "c.toml")
NO_RECOVERIES = NotificationRules.from_dict({"recoveries": False}, "c.toml")
SILENT_OFF_SHIFT = NotificationRules.from_dict({"outside_shift": "silent"}, "c.toml")
OFF = NotificationRules.from_dict({"enabled": False}, "c.toml")
DEFAULT = NotificationRules()

ON, OFFSHIFT = True, False
SNOOZE_1400 = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)

# (id, event, rules, on_shift, on_call, snoozed_until, notify, held)
MATRIX = [
    # On shift, default rules: every hard, unhandled severity pops.
    ("crit", raised(CRIT), DEFAULT, ON, None, None, True, None),
    ("warn", raised(WARN), DEFAULT, ON, None, None, True, None),
    ("unknown", raised(UNKN), DEFAULT, ON, None, None, True, None),
    ("info never", raised(INFO), DEFAULT, ON, None, None, False, "info only"),
    # Soft / pending and handled alerts never pop.
    ("soft", raised(CRIT, pending=True), DEFAULT, ON, None, None, False, "soft state"),
    ("soft+handled", raised(CRIT, pending=True, handled=True), DEFAULT, ON, None, None, False, "soft state"),
    ("handled", raised(CRIT, handled=True, handled_reason="downtime"), DEFAULT, ON, None, None, False,
     "handled (downtime)"),
    # Per group x severity rules.
    ("prod warn", raised(WARN, "production"), TEAM, ON, None, None, True, None),
    ("staging crit", raised(CRIT, "staging"), TEAM, ON, None, None, True, None),
    ("staging warn", raised(WARN, "staging"), TEAM, ON, None, None, False, "rules: staging warning is off"),
    ("staging unknown", raised(UNKN, "staging"), TEAM, ON, None, None, False, "rules: staging unknown is off"),
    ("integration crit", raised(CRIT, "integration"), TEAM, ON, None, None, False,
     "rules: integration critical is off"),
    ("unlisted group: all", raised(WARN, "lab"), TEAM, ON, None, None, True, None),
    ("unlisted group: '*'", raised(WARN, "lab"), STRICT_DEFAULT, ON, None, None, False, "rules: lab warning is off"),
    ("listed beats '*'", raised(WARN, "production"), STRICT_DEFAULT, ON, None, None, True, None),
    ("all off", raised(CRIT), OFF, ON, True, None, False, "notifications are off"),
    # Changes.
    ("worse", changed(A(WARN), A(CRIT)), DEFAULT, ON, None, None, True, None),
    ("better", changed(A(CRIT), A(WARN)), DEFAULT, ON, None, None, True, None),
    ("better, rule off", changed(A(CRIT), A(WARN), "staging"), TEAM, ON, None, None, False,
     "rules: staging warning is off"),
    ("acknowledged", changed(A(CRIT), A(CRIT, handled=True, handled_reason="acknowledged")), DEFAULT, ON,
     None, None, False, "handled (acknowledged)"),
    ("unacknowledged", changed(A(CRIT, handled=True, handled_reason="acknowledged"), A(CRIT)), DEFAULT, ON,
     None, None, False, "handled state changed"),
    ("unhandled at a new severity", changed(A(WARN, handled=True), A(CRIT)), DEFAULT, ON, None, None, True, None),
    ("soft -> hard", changed(A(CRIT, pending=True), A(CRIT)), DEFAULT, ON, None, None, True, None),
    ("hard -> soft", changed(A(CRIT), A(WARN, pending=True)), DEFAULT, ON, None, None, False, "soft state"),
    ("same state", changed(A(CRIT), A(CRIT, detail="new text")), DEFAULT, ON, None, None, False,
     "no change in state"),
    # Recoveries follow `recoveries`, and the rules for the severity that went away.
    ("cleared", cleared(A(CRIT)), DEFAULT, ON, None, None, True, None),
    ("cleared, off", cleared(A(CRIT)), NO_RECOVERIES, ON, None, None, False, "recoveries are off"),
    ("cleared soft", cleared(A(CRIT, pending=True)), DEFAULT, ON, None, None, False, "cleared, was soft state"),
    ("cleared handled", cleared(A(CRIT, handled=True, handled_reason="silenced")), DEFAULT, ON, None, None,
     False, "cleared, was handled (silenced)"),
    ("cleared in downtime", cleared(A(WARN, handled=True, handled_reason="downtime")), DEFAULT, ON, None, None,
     False, "cleared, was handled (downtime)"),
    # An acknowledged problem that recovers ends an incident someone was working on: it pops.
    ("cleared acknowledged", cleared(A(CRIT, handled=True, handled_reason="acknowledged")), DEFAULT, ON, None,
     None, True, None),
    ("cleared acknowledged, off", cleared(A(CRIT, handled=True, handled_reason="acknowledged")), NO_RECOVERIES,
     ON, None, None, False, "recoveries are off"),
    ("cleared acknowledged soft", cleared(A(CRIT, pending=True, handled=True, handled_reason="acknowledged")),
     DEFAULT, ON, None, None, False, "cleared, was soft state"),
    ("cleared, rule off", cleared(A(WARN), "staging"), TEAM, ON, None, None, False,
     "rules: staging warning recovery is off"),
    ("source down", Event(EventKind.UNREACHABLE, "icinga", "production", reason="timed out"), DEFAULT, ON,
     None, None, True, None),
    ("source down, staging", Event(EventKind.UNREACHABLE, "icinga", "staging", reason="x"), TEAM, ON, None,
     None, False, "rules: staging unknown is off"),
    ("source back", Event(EventKind.RECOVERED, "icinga", "production"), DEFAULT, ON, None, None, True, None),
    ("source back, off", Event(EventKind.RECOVERED, "icinga", "production"), NO_RECOVERIES, ON, None, None,
     False, "recoveries are off"),
    # Snooze: until then nothing pops, on call or not; afterwards, as usual.
    ("snoozed", raised(CRIT), DEFAULT, ON, True, SNOOZE_1400, False, "snoozed until 14:00"),
    ("snooze over", raised(CRIT), DEFAULT, ON, None, NOW - timedelta(seconds=1), True, None),
    ("snooze ends now", raised(CRIT), DEFAULT, ON, None, NOW, True, None),
    ("snoozed past midnight", raised(CRIT), DEFAULT, ON, None, datetime(2026, 11, 27, 8, tzinfo=timezone.utc),
     False, "snoozed until Fri 08:00"),
    # Outside the shift: only critical, only on call (the default).
    ("off shift crit on call", raised(CRIT), DEFAULT, OFFSHIFT, True, None, True, None),
    ("off shift warn on call", raised(WARN), DEFAULT, OFFSHIFT, True, None, False,
     "outside shift hours (on call: critical only)"),
    ("off shift crit not on call", raised(CRIT), DEFAULT, OFFSHIFT, False, None, False,
     "outside shift hours (not on call)"),
    ("off shift no on-call source", raised(CRIT), DEFAULT, OFFSHIFT, None, None, False,
     "outside shift hours (no on-call source)"),
    ("off shift silent", raised(CRIT), SILENT_OFF_SHIFT, OFFSHIFT, True, None, False, "outside shift hours"),
    ("off shift crit cleared on call", cleared(A(CRIT)), DEFAULT, OFFSHIFT, True, None, True, None),
    ("off shift warn cleared on call", cleared(A(WARN)), DEFAULT, OFFSHIFT, True, None, False,
     "outside shift hours (on call: critical only)"),
    ("off shift source down on call", Event(EventKind.UNREACHABLE, "icinga", "production"), DEFAULT, OFFSHIFT,
     True, None, False, "outside shift hours (on call: critical only)"),
    # First match wins: the event itself, then rules, then snooze, then the shift.
    ("soft beats rules", raised(WARN, "staging", pending=True), TEAM, OFFSHIFT, False, SNOOZE_1400, False,
     "soft state"),
    ("rules beat snooze", raised(WARN, "staging"), TEAM, OFFSHIFT, False, SNOOZE_1400, False,
     "rules: staging warning is off"),
    ("snooze beats shift", raised(CRIT), DEFAULT, OFFSHIFT, False, SNOOZE_1400, False, "snoozed until 14:00"),
]


@pytest.mark.parametrize("event,rules,on_shift,on_call,snoozed,notify,held", [m[1:] for m in MATRIX],
                         ids=[m[0] for m in MATRIX])
def test_matrix(event, rules, on_shift, on_call, snoozed, notify, held):
    d = decide(event, now_utc=NOW, on_shift=on_shift, on_call=on_call, snoozed_until=snoozed,
               rules=rules, zone=timezone.utc)
    assert (d.notify, d.held) == (notify, held)
    assert bool(d) is notify
    # Held for what the event is (soft, handled, no change): not news, so not "held back".
    event_itself = held is not None and held.startswith(("soft state", "handled", "info only", "cleared, was",
                                                         "no change", "nothing cleared"))
    assert d.quiet is event_itself, (held, d)


def test_held_time_is_in_the_given_zone():
    summer_now = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    d = decide(raised(CRIT), now_utc=summer_now, on_shift=True, on_call=None,
               snoozed_until=datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc), rules=DEFAULT, zone=LONDON)
    assert d.held == "snoozed until 14:00"


def test_defaults():
    r = NotificationRules.from_dict({}, "c.toml")
    assert r == NotificationRules()
    assert (r.enabled, r.recoveries, r.outside_shift) == (True, True, "on_call_critical")
    assert r.severities("anything") == {CRIT, WARN, UNKN}


@pytest.mark.parametrize("table,key,fragment", [
    ({"enabled": "yes"}, "notifications.enabled", "true or false"),
    ({"recoveries": 1}, "notifications.recoveries", "true or false"),
    ({"outside_shift": "loud"}, "notifications.outside_shift", '"on_call_critical" or "silent"'),
    ({"rules": ["critical"]}, "notifications.rules", "table of group"),
    ({"rules": {"staging": "critical"}}, "notifications.rules.staging", "list of severities"),
    ({"rules": {"staging": ["critcal"]}}, "notifications.rules.staging", "unknown severity 'critcal'"),
    ({"rules": {"staging": ["info"]}}, "notifications.rules.staging", "info items never pop up"),
    ({"sound": True}, "notifications.sound", "unknown key"),
])
def test_config_errors(table, key, fragment):
    with pytest.raises(ConfigError) as e:
        NotificationRules.from_dict(table, "/etc/secondline.toml")
    assert (e.value.path, e.value.key) == ("/etc/secondline.toml", key)
    assert fragment in e.value.reason


def test_min_gap_is_accepted_and_checked():
    assert NotificationRules.from_dict({"min_gap": 10, "enabled": True}, "c.toml").min_gap == 10.0
    with pytest.raises(ConfigError) as e:
        NotificationRules.from_dict({"min_gap": -1}, "c.toml")
    assert e.value.key == "notifications.min_gap"


def _snap(*on_calls):
    from tray.core.model import Counts, Health, Snapshot, SourceSnapshot
    sources = tuple(SourceSnapshot(name=f"s{i}", type="pagerduty", group="g", health=Health.OK,
                                   on_call=oc, error=err, checked_at=NOW)
                    for i, (oc, err) in enumerate(on_calls))
    return Snapshot(generated_at=NOW, health=Health.OK, handled_only=False, counts=Counts(),
                    groups=(), sources=sources)


def test_on_call_from_the_snapshot():
    from tray.core.model import OnCall
    from tray.notify.policy import on_call_from
    snap = _snap((None, None))
    assert on_call_from(snap) is None
    snap = _snap((OnCall(False), None), (None, None))
    assert on_call_from(snap) is False
    snap = _snap((OnCall(False), None), (OnCall(True, NOW + timedelta(hours=1)), None))
    assert on_call_from(snap, NOW) is True
    # The on-call ended at `until`.
    assert on_call_from(snap, NOW + timedelta(hours=1)) is False
    # An unreadable PagerDuty keeps its last answer.
    snap = _snap((OnCall(True), "timed out"))
    assert on_call_from(snap, NOW) is True
