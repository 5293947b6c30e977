"""reduce() and diff(): the rules of the product, table-driven."""
from datetime import datetime, timedelta, timezone

import pytest

from tray.core.model import Alert, EventKind, Health, Severity, worst
from tray.core.rules import apply_filters, diff, reduce, source_snapshot, summary_line

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def A(id, sev="critical", handled=False, pending=False, source="s1", title=None):
    return Alert(source=source, id=id, title=title or id, severity=Severity(sev), handled=handled,
                 handled_reason="acknowledged" if handled else None, pending=pending)


def S(name="s1", group="production", alerts=(), error=None, checked=True, stale=False, stream_error=None):
    return source_snapshot(name=name, type="demo", group=group, alerts=alerts,
                           checked_at=NOW if checked else None, error=error, stale=stale,
                           stream_error=stream_error)


@pytest.mark.parametrize("healths,expected", [
    ([], Health.OK),
    ([Health.OK, Health.WARNING], Health.WARNING),
    ([Health.WARNING, Health.UNKNOWN], Health.UNKNOWN),
    ([Health.UNKNOWN, Health.CRITICAL, Health.OK], Health.CRITICAL),
])
def test_worst_order(healths, expected):
    assert worst(healths) is expected


@pytest.mark.parametrize("alerts,health,handled_only,counts", [
    ((), Health.OK, False, (0, 0, 0, 0)),
    ((A("a", "warning"),), Health.WARNING, False, (0, 1, 0, 0)),
    ((A("a", "warning"), A("b", "critical")), Health.CRITICAL, False, (1, 1, 0, 0)),
    ((A("a", "unknown"), A("b", "warning")), Health.UNKNOWN, False, (0, 1, 1, 0)),
    ((A("a", "critical", handled=True),), Health.OK, True, (0, 0, 0, 1)),
    ((A("a", "critical", handled=True), A("b", "warning")), Health.WARNING, False, (0, 1, 0, 1)),
    ((A("a", "critical", pending=True),), Health.OK, False, (0, 0, 0, 0)),
    ((A("a", "info"),), Health.OK, False, (0, 0, 0, 0)),
])
def test_reduce_one_source(alerts, health, handled_only, counts):
    snap = reduce([S(alerts=alerts)], NOW)
    assert snap.health is health
    assert snap.handled_only is handled_only
    c = snap.counts
    assert (c.critical, c.warning, c.unknown, c.handled) == counts


def test_unreadable_source_is_unknown_and_counts_once():
    snap = reduce([S(alerts=(A("a", "warning"),), error="connection refused")], NOW)
    assert snap.health is Health.UNKNOWN
    assert snap.counts.unknown == 1 and snap.counts.warning == 0
    assert snap.sources[0].alerts == () and snap.sources[0].held == (A("a", "warning"),)


def test_stale_source_is_unknown():
    s = S(alerts=(), stale=True)
    assert s.health is Health.UNKNOWN and s.stale and "stale" in s.error


def test_stream_down_keeps_data_current():
    s = S(alerts=(A("a", "warning"),), stream_error="event stream down")
    assert s.health is Health.WARNING and s.readable and s.error == "event stream down"


def test_groups_keep_first_seen_order_and_own_health():
    snap = reduce([S("p", "production", (A("x", source="p"),)), S("s", "staging", (A("y", "warning", source="s"),)),
                   S("i", "integration"), S("p2", "production", (A("z", handled=True, source="p2"),))], NOW)
    assert [g.name for g in snap.groups] == ["production", "staging", "integration"]
    assert [g.health for g in snap.groups] == [Health.CRITICAL, Health.WARNING, Health.OK]
    assert snap.groups[0].counts.handled == 1
    assert not snap.groups[2].handled_only


def test_group_handled_only():
    snap = reduce([S("p", "production", (A("x", handled=True, source="p"),)), S("s", "staging")], NOW)
    assert snap.groups[0].handled_only and snap.groups[0].health is Health.OK
    assert snap.handled_only and snap.state == "handled_only"


def test_no_data_state():
    assert reduce([], NOW).state == "no_data"
    assert reduce([S(checked=False)], NOW).state == "no_data"


def _snaps(before, after):
    return reduce(before, NOW), reduce(after, NOW + timedelta(seconds=5))


@pytest.mark.parametrize("before,after,expected", [
    # raised / cleared / severity change / handled change
    ([S()], [S(alerts=(A("a"),))], [(EventKind.RAISED, "a")]),
    ([S(alerts=(A("a"),))], [S()], [(EventKind.CLEARED, "a")]),
    ([S(alerts=(A("a", "warning"),))], [S(alerts=(A("a", "critical"),))], [(EventKind.CHANGED, "a")]),
    ([S(alerts=(A("a"),))], [S(alerts=(A("a", handled=True),))], [(EventKind.CHANGED, "a")]),
    ([S(alerts=(A("a"),))], [S(alerts=(A("a"),))], []),
    # a source going away and back: no flood of cleared/raised
    ([S(alerts=(A("a"),))], [S(alerts=(A("a"),), error="timed out")], [(EventKind.UNREACHABLE, None)]),
    ([S(alerts=(A("a"),), error="timed out")], [S(alerts=(A("a"),))], [(EventKind.RECOVERED, None)]),
    ([S(alerts=(A("a"),), error="timed out")], [S(alerts=(A("b"),))],
     [(EventKind.RECOVERED, None), (EventKind.RAISED, "b"), (EventKind.CLEARED, "a")]),
    ([S(error="x")], [S(error="y")], []),
    # the first reading is the baseline: no alert pops up for what was there at start-up
    ([S(checked=False)], [S(alerts=(A("a"),))], []),
    ([S(checked=False)], [S(checked=False, stream_error="stream down")], []),
    ([S(checked=False, stream_error="stream down")], [S(alerts=(A("a"),), stream_error="stream down")], []),
    # ... but a source that cannot be read from its first poll on is news, however it failed first
    ([S(checked=False)], [S(checked=False, error="refused")], [(EventKind.UNREACHABLE, None)]),
    ([S(checked=False, stream_error="no keyring")], [S(checked=False, error="no keyring")],
     [(EventKind.UNREACHABLE, None)]),
    ([S(checked=False, error="refused")], [S(checked=False, error="refused again")], []),
])
def test_diff(before, after, expected):
    old, new = _snaps(before, after)
    got = [(e.kind, e.alert.id if e.alert else None) for e in diff(old, new)]
    assert got == expected


def test_diff_keys_on_source_and_id_within_one_snapshot():
    """A hub's snapshot carries alerts of several upstream sources, and their ids may repeat."""
    both = (A("web1!http", source="prod-icinga"), A("web1!http", source="stage-icinga"))
    old, new = _snaps([S("hub", alerts=both)], [S("hub", alerts=both[:1])])
    (e,) = diff(old, new)
    assert e.kind is EventKind.CLEARED and e.alert.source == "stage-icinga"
    old, new = _snaps([S("hub", alerts=both[:1])], [S("hub", alerts=both)])
    (e,) = diff(old, new)
    assert e.kind is EventKind.RAISED and e.alert.source == "stage-icinga"


def test_diff_from_nothing_is_silent():
    assert diff(None, reduce([S(alerts=(A("a"),))], NOW)) == []


def test_unreachable_event_carries_reason():
    old, new = _snaps([S()], [S(error="connection refused by x")])
    (e,) = diff(old, new)
    assert e.reason == "connection refused by x" and e.group == "production"


@pytest.mark.parametrize("include,exclude,kept", [
    ((), (), ["web01!http", "db1!disk", "db2!load"]),
    (("^db",), (), ["db1!disk", "db2!load"]),
    ((), ("load",), ["web01!http", "db1!disk"]),
    (("db",), ("db2",), ["db1!disk"]),
    (("HTTP",), (), []),                 # case-sensitive, as regexes are
    (("(?i)http",), (), ["web01!http"]),
])
def test_filters(include, exclude, kept):
    alerts = [A("web01!http"), A("db1!disk"), A("db2!load")]
    assert [a.id for a in apply_filters(alerts, include, exclude)] == kept


def test_filters_match_title_too():
    assert apply_filters([A("x1", title="DiskFull on db1")], ("DiskFull",), ())


def test_alerts_sorted_worst_first_handled_last():
    s = S(alerts=(A("h", handled=True), A("w", "warning"), A("c", "critical")))
    assert [a.id for a in s.alerts] == ["c", "w", "h"]


@pytest.mark.parametrize("alerts,text", [
    ((), "secondline: All OK"),
    ((A("a", "warning"), A("b")), "secondline: 1 critical, 1 warning"),
    ((A("a", handled=True),), "secondline: All OK, 1 handled"),
])
def test_summary_line(alerts, text):
    assert text == summary_line(reduce([S(alerts=alerts)], NOW))
