"""The rules of the product, as pure functions: filters, per-source health, reduce, diff.

No clock and no I/O here: time comes in as an argument. These are the most tested lines.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Sequence

from tray.core import words
from tray.core.model import (Alert, Counts, Event, EventKind, GroupSummary, Health, OnCall, Severity,
                        Snapshot, SourceSnapshot, worst)

STALE_INTERVALS = 3


def apply_filters(alerts: Iterable[Alert], include: Sequence[str] = (), exclude: Sequence[str] = ()
                  ) -> tuple[Alert, ...]:
    """Per-source include/exclude regexes, matched (re.search) against an alert's id and title.

    The id carries host and service for monitoring sources ("web01!http") and the title carries
    the alert name, so one pattern reaches host, service and alert name alike.
    """
    inc = [re.compile(p) for p in include]
    exc = [re.compile(p) for p in exclude]
    out = []
    for a in alerts:
        subjects = (a.id, a.title)
        if inc and not any(p.search(s) for p in inc for s in subjects):
            continue
        if exc and any(p.search(s) for p in exc for s in subjects):
            continue
        out.append(a)
    return tuple(out)


def count_alerts(alerts: Iterable[Alert]) -> Counts:
    c = w = u = h = p = 0
    for a in alerts:
        if a.handled:
            h += 1
        elif a.pending or a.severity is Severity.INFO:
            p += 1
        elif a.severity is Severity.CRITICAL:
            c += 1
        elif a.severity is Severity.WARNING:
            w += 1
        else:
            u += 1
    return Counts(critical=c, warning=w, unknown=u, handled=h, pending=p)


def _sort_key(a: Alert) -> tuple:
    # Worst first, then newest first; handled and pending sink to the bottom.
    return (not a.raises, -a.severity.health.rank, -(a.since.timestamp() if a.since else 0), a.id)


def source_snapshot(*, name: str, type: str, group: str, alerts: Sequence[Alert],
                    checked_at: datetime | None, error: str | None, stale: bool = False,
                    on_call: OnCall | None = None, stream_error: str | None = None,
                    capabilities: tuple[str, ...] = ()) -> SourceSnapshot:
    """One source's view. A source that cannot be read (error or stale) is unknown and counts as
    one unknown problem itself; its last good alerts are held for the diff but not shown as current.
    A stream that is down while polls work is reported in `error` but does not hide good data."""
    if error is not None or stale:
        return SourceSnapshot(name=name, type=type, group=group, health=Health.UNKNOWN, alerts=(),
                              checked_at=checked_at, error=error or "no fresh data (stale)", stale=stale,
                              on_call=on_call, counts=Counts(unknown=1), held=tuple(alerts),
                              capabilities=capabilities)
    ordered = tuple(sorted(alerts, key=_sort_key))
    health = worst(a.severity.health for a in ordered if a.raises)
    return SourceSnapshot(name=name, type=type, group=group, health=health, alerts=ordered,
                          checked_at=checked_at, error=stream_error, stale=False, on_call=on_call,
                          counts=count_alerts(ordered), degraded=stream_error is not None,
                          capabilities=capabilities)


def _summary_health(sources: Sequence[SourceSnapshot]) -> tuple[Health, Counts, bool]:
    counts = Counts()
    for s in sources:
        counts = counts + s.counts
    health = worst(s.health for s in sources)
    handled_only = health is Health.OK and counts.problems == 0 and counts.handled > 0
    return health, counts, handled_only


def reduce(sources: Sequence[SourceSnapshot], now: datetime,
           snoozed_until: datetime | None = None) -> Snapshot:
    """All sources -> the overall Snapshot: worst health, counts, per-group summaries.

    Handled alerts are counted apart and never raise the colour; when every problem is handled
    the health is ok with `handled_only`. Groups keep the order in which they first appear.
    """
    order: list[str] = []
    by_group: dict[str, list[SourceSnapshot]] = {}
    for s in sources:
        if s.group not in by_group:
            order.append(s.group)
            by_group[s.group] = []
        by_group[s.group].append(s)
    groups = []
    for g in order:
        h, c, ho = _summary_health(by_group[g])
        groups.append(GroupSummary(name=g, health=h, handled_only=ho, counts=c))
    health, counts, handled_only = _summary_health(sources)
    return Snapshot(generated_at=now, health=health, handled_only=handled_only, counts=counts,
                    groups=tuple(groups), sources=tuple(sources), snoozed_until=snoozed_until)


def _never_read(s: SourceSnapshot) -> bool:
    return s.checked_at is None and s.error is None


def _no_poll_yet(s: SourceSnapshot) -> bool:
    """Neither a reading nor a failed poll yet (an event stream may have reported already)."""
    return s.checked_at is None and (s.error is None or s.degraded)


def diff(old: Snapshot | None, new: Snapshot) -> list[Event]:
    """What changed between two snapshots, as events for pop-ups and the SSE stream.

    No alert that was already there at start-up is an event: a source's first reading is the
    baseline. A source that cannot be read from its first poll on is one (UNREACHABLE): the user
    would otherwise take the icon's colour for the whole picture. While a source is unreadable its
    alerts are not diffed (no flood of "cleared" on an outage, nor of "raised" on recovery): they
    are compared with the last good set.
    """
    if old is None:
        return []
    events: list[Event] = []
    for n in new.sources:
        o = old.source(n.name)
        if o is None or _never_read(n):
            continue
        if _no_poll_yet(o):
            if not n.readable and not _no_poll_yet(n):
                events.append(Event(EventKind.UNREACHABLE, n.name, n.group, reason=n.error))
            continue
        if o.readable and not n.readable:
            events.append(Event(EventKind.UNREACHABLE, n.name, n.group, reason=n.error))
            continue
        if not n.readable:
            continue
        before = o.alerts if o.readable else o.held
        if not o.readable:
            events.append(Event(EventKind.RECOVERED, n.name, n.group))
        # By (source, id), not id: a hub's snapshot carries several upstream sources whose ids may repeat.
        old_by_key = {a.key: a for a in before}
        new_keys = set()
        for a in n.alerts:
            new_keys.add(a.key)
            prev = old_by_key.get(a.key)
            if prev is None:
                events.append(Event(EventKind.RAISED, n.name, n.group, alert=a))
            elif (prev.severity, prev.handled, prev.pending) != (a.severity, a.handled, a.pending):
                events.append(Event(EventKind.CHANGED, n.name, n.group, alert=a, previous=prev))
        for a in before:
            if a.key not in new_keys:
                events.append(Event(EventKind.CLEARED, n.name, n.group, alert=a, previous=a))
    return events


def summary_line(snap: Snapshot) -> str:
    """One line for the tooltip, the menu's first line and `secondline status` (shared/vocabulary.json)."""
    return words.phrase("app_summary", summary=words.summary(snap.state, snap.counts))


def group_state(g: GroupSummary, sources: Sequence[SourceSnapshot]) -> str:
    """A group's palette key: no_data until one of its sources has been read (or failed)."""
    mine = [s for s in sources if s.group == g.name]
    if mine and all(s.checked_at is None and s.error is None for s in mine):
        return "no_data"
    return "handled_only" if g.handled_only else g.health.value


def source_state(s: SourceSnapshot) -> str:
    return "no_data" if s.checked_at is None and s.error is None else s.health.value


def group_line(g: GroupSummary, sources: Sequence[SourceSnapshot] = ()) -> str:
    """"production: 1 critical, 1 handled": a group as the menu, the extension's tooltip and
    `secondline status` show it."""
    return words.phrase("group", name=g.name, summary=words.summary(group_state(g, sources), g.counts))
