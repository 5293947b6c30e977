"""An iCalendar (RFC 5545) rota: every VEVENT is a stretch of work, SUMMARY = the person's name.

The libraries do the iCalendar work, because real rota exports (Google Calendar, Outlook, PagerDuty
schedule feeds) use far more of the standard than a hand-written reader keeps up with:
- `icalendar` parses: folding, escapes, DATE / DATE-TIME values in UTC, with TZID or floating,
  DURATION, VTIMEZONE blocks (also with made-up TZIDs), Outlook's Windows zone names
  ("GMT Standard Time") and vendor-prefixed ids ("/mozilla.org/20050126_1/Europe/London").
- `recurring-ical-events` (on python-dateutil) expands every RRULE (DAILY .. YEARLY, numbered BYDAY,
  BYMONTH, BYSETPOS, ...), RDATE, EXDATE and RECURRENCE-ID overrides in the event's own zone, so a
  repeating 22:00-06:00 night stays 22:00-06:00 across a DST change, and it reads Google's
  X-WR-TIMEZONE (UTC and floating times then mean that zone).

This module decides what the events mean for a rota: floating times and DATE values are in the rota's
zone `zone` (the shift's); a DATE without an end is one day, and DATE entries are `all_day`;
STATUS:CANCELLED events and instances are skipped, as are events that last no time at all;
open-ended rules stop 400 days after `now` (two years after the event's start without `now`), and
a rule making more than MAX_OCCURRENCES shifts before then is refused rather than left to hang the
tray. Bad input raises ValueError with one line: the line of the broken component and the event's
SUMMARY and UID. icalendar is lenient where that would hide a broken rota (an unclosed or
mismatched BEGIN/END, an unknown TZID read as floating time), so those are checked here.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar.error import GloballyUniqueTZIDGuessed

from tray.shift.rota_entry import RotaEntry, local_to_utc

MAX_OCCURRENCES = 10000          # per repeating event: a runaway rule must not hang the tray
AFTER_NOW = timedelta(days=400)  # open-ended rules stop this long after `now`...
AFTER_START = timedelta(days=730)  # ...or, without `now`, this long after the event's start
_FAR_PAST, _FAR_FUTURE = date(1900, 1, 1), date(2999, 12, 31)
_TIMES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
_READ = _TIMES + ("DURATION", "RRULE", "SUMMARY", "STATUS", "UID")
_ONCE = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SUMMARY", "STATUS", "UID")

# "/mozilla.org/20050126_1/Europe/London" meaning Europe/London is what we want, not news.
warnings.filterwarnings("ignore", category=GloballyUniqueTZIDGuessed)


def parse_ics(text: str, zone: tzinfo, now: datetime | None) -> list[RotaEntry]:
    """The rota's entries (unsorted). `zone` is for floating times and DATE values."""
    begins = iter(_check_structure(text))
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:        # mostly ValueError; a parser slip must not kill the rota thread
        raise ValueError(f"not valid iCalendar: {_one_line(exc) or type(exc).__name__}") from None
    out: list[RotaEntry] = []
    for cal in calendars:
        events = []
        for comp in cal.walk():     # depth first, the order of the BEGIN lines
            name, line = next(begins, (None, None))
            line = line if name == comp.name else None
            bad = [msg for prop, msg in comp.errors if prop is None]
            if bad:
                raise ValueError(_where(line, f"{comp.name}: bad content line ({_one_line(bad[0])})"))
            if comp.name == "VEVENT":
                events.append(_Event(comp, line))
        xwr = cal.get("X-WR-TIMEZONE")
        if xwr is not None:
            try:
                ZoneInfo(str(xwr))
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone X-WR-TIMEZONE={str(xwr)!r}") from None
        for series in _series(events, zone):
            out.extend(_expand(series, xwr, zone, now))
    return out


@dataclass
class _Event:
    comp: icalendar.Event
    line: int | None        # of its BEGIN:VEVENT

    def error(self, reason: str) -> ValueError:
        who = "event"
        summary, uid = (" ".join(str(self.comp.get(k, "")).split()) for k in ("SUMMARY", "UID"))
        if summary:
            who += f' "{summary}"'
        if uid:
            who += f" (UID {uid})"
        return ValueError(_where(self.line, reason if who == "event" else f"{who}: {reason}"))


def _raw(prop: Any) -> str:
    """A property's value as written (near enough), for messages."""
    try:
        value = prop.to_ical()
    except Exception:       # a value icalendar cannot even write back
        return str(prop)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _where(line: int | None, reason: str) -> str:
    return f"line {line}: {reason}" if line else reason


def _one_line(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _unfold(text: str) -> list[tuple[int, str]]:
    """Content lines with their first physical line number (RFC 5545 3.1 folding). Lines end at
    LF or CRLF only, as icalendar reads them (a U+2028 in a DESCRIPTION ends nothing)."""
    out: list[tuple[int, str]] = []
    for n, raw in enumerate(re.split(r"\r?\n", text), start=1):
        if raw[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + raw[1:])
        elif raw.strip():
            out.append((n, raw))
    return out


def _check_structure(text: str) -> list[tuple[str, int]]:
    """Every BEGIN's component and line number, in order. icalendar silently drops an unclosed
    component and accepts a mismatched END, and it keeps no line numbers: both are done here."""
    lines = _unfold(text)
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        raise ValueError(f"line {lines[0][0] if lines else 1}: iCalendar must start with BEGIN:VCALENDAR")
    begins: list[tuple[str, int]] = []
    stack: list[tuple[str, int]] = []
    for n, line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"line {n}: not an iCalendar content line (no ':'): {line[:60]!r}")
        name, value = name.strip().upper(), value.strip().upper()
        if name == "BEGIN":
            if not stack and value != "VCALENDAR":
                raise ValueError(f"line {n}: BEGIN:{value} outside BEGIN:VCALENDAR .. END:VCALENDAR")
            stack.append((value, n))
            begins.append((value, n))
        elif name == "END":
            if value not in (comp for comp, _ in stack):
                raise ValueError(f"line {n}: END:{value} without matching BEGIN")
            if stack[-1][0] != value:
                raise ValueError(f"line {n}: END:{value} where END:{stack[-1][0]} was expected "
                                 f"(BEGIN on line {stack[-1][1]})")
            stack.pop()
    if stack:
        raise ValueError(f"line {stack[-1][1]}: BEGIN:{stack[-1][0]} is never closed (truncated file?)")
    return begins


def _props(comp: icalendar.Event, name: str) -> list[Any]:
    """Every property called `name` (icalendar gives one, a list of several, or nothing)."""
    props = comp.get(name)
    return props if isinstance(props, list) else [] if props is None else [props]


def _values(comp: icalendar.Event, name: str) -> list[tuple[Any, Any]]:
    """(parameters, value) of every date or date-time in the properties called `name`."""
    out = []
    for prop in _props(comp, name):
        for v in getattr(prop, "dts", [prop]):        # EXDATE / RDATE hold lists; TZID is the list's
            out.append((prop.params, v.dt[0] if isinstance(v.dt, tuple) else v.dt))
    return out


def _utc(value: date | datetime, zone: tzinfo) -> datetime:
    """A DATE is local midnight in the rota's zone; a floating time is wall clock there."""
    if not isinstance(value, datetime):
        return local_to_utc(value, time(0), zone)
    if value.tzinfo is None:
        return local_to_utc(value.date(), value.time(), zone)
    return value.astimezone(timezone.utc)


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _check(ev: _Event, zone: tzinfo, cancelled: bool) -> None:
    """Raise for what recurring-ical-events would choke on or quietly misread. Of a cancellation
    only the times matter."""
    c = ev.comp
    for name, msg in c.errors:
        if name in (_TIMES if cancelled else _READ):
            raw = next((str(p) for p in _props(c, name) if isinstance(p, icalendar.vBroken)), str(c[name]))
            if name in _TIMES:
                raise ev.error(f"{name} {raw!r} is not an iCalendar date or date-time")
            if name == "DURATION":
                raise ev.error(f"DURATION {raw!r} is not an iCalendar duration")
            raise ev.error(f"{name} {raw!r} is not valid: {_one_line(msg)}")
    for name in _ONCE:
        if isinstance(c.get(name), list):
            raise ev.error(f"{name} appears more than once")
    if "DTSTART" not in c:
        raise ev.error("VEVENT without DTSTART")
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        if name in c and not isinstance(c.decoded(name), date):
            raise ev.error(f"{name} must be a date or a date-time, not {_raw(c[name])!r}")
    for name in _TIMES:
        for params, value in _values(c, name):
            if "TZID" in params and isinstance(value, datetime) and value.tzinfo is None:
                raise ev.error(f"unknown time zone TZID={params['TZID']!r} "
                               "(neither a known zone nor a VTIMEZONE in the file)")
    if cancelled:
        return
    if not str(c.get("SUMMARY", "")).strip():
        raise ev.error("VEVENT without a SUMMARY (the person's name)")
    start = c.decoded("DTSTART")
    if "DTEND" in c:
        begin, end = _utc(start, zone), _utc(c.decoded("DTEND"), zone)
        backwards = end < begin or (_is_date(start) and end == begin)
    elif "DURATION" in c:
        length = c.decoded("DURATION")
        backwards = length < timedelta(0) or (_is_date(start) and length < timedelta(days=1))
    else:
        backwards = False
    if backwards:
        raise ev.error("event ends before it starts")
    for rule in _props(c, "RRULE"):
        if "FREQ" not in rule:
            raise ev.error(f"RRULE {_raw(rule)!r} has no FREQ")


def _series(events: list[_Event], zone: tzinfo) -> list[list[_Event]]:
    """Checked events grouped by UID: one repeating event with its overrides (RECURRENCE-ID).
    Cancelled events are dropped (their overrides then stand alone); cancelled overrides are kept,
    so the instance they cancel is reported cancelled. Events that share a UID without being
    overrides (a sloppy export) each stay an event of their own, overrides going with the first."""
    groups: dict[str, list[_Event]] = {}
    masters: set[str] = set()
    for i, ev in enumerate(events):
        c = ev.comp
        cancelled = str(c.get("STATUS", "")).strip().upper() == "CANCELLED"
        override = "RECURRENCE-ID" in c
        if cancelled and not override:
            continue
        if cancelled and "DTSTART" not in c:
            c["DTSTART"] = c["RECURRENCE-ID"]       # a bare cancellation names only the instance
        _check(ev, zone, cancelled)
        key = str(c.get("UID", "")).strip() or f"#{i}"
        if not override:
            if key in masters:
                key = f"{key}#{i}"
            masters.add(key)
        groups.setdefault(key, []).append(ev)
    return list(groups.values())


def _expand(series: list[_Event], xwr: Any, zone: tzinfo, now: datetime | None) -> list[RotaEntry]:
    master = next((ev for ev in series if "RECURRENCE-ID" not in ev.comp), None)
    label = master or series[0]
    until, horizon = _FAR_FUTURE, None
    if master is not None and _props(master.comp, "RRULE"):
        first = _utc(master.comp.decoded("DTSTART"), zone)
        horizon = max(first, now + AFTER_NOW if now else first + AFTER_START)
        _check_size(master, horizon)
        until = horizon.date() + timedelta(days=2)
    cal = icalendar.Calendar()
    if xwr is not None:
        cal["X-WR-TIMEZONE"] = xwr
    for ev in series:
        cal.add_component(ev.comp)
    try:
        occurrences = recurring_ical_events.of(cal).between(_FAR_PAST, until)
    except Exception as exc:        # the library's own complaint, about this event
        raise label.error(f"cannot expand it: {_one_line(exc) or type(exc).__name__}") from None
    out = []
    for occ in occurrences:
        if str(occ.get("STATUS", "")).strip().upper() == "CANCELLED":
            continue
        start, end = _utc(occ.start, zone), _utc(occ.end, zone)
        if end <= start or (horizon is not None and start > horizon):
            continue            # an instant covers no time on shift
        out.append(RotaEntry(" ".join(str(occ["SUMMARY"]).split()), start, end, _is_date(occ.start)))
    return out


def _check_size(master: _Event, horizon: datetime) -> None:
    """Count a rule's instants up to the horizon lazily (dateutil, as the expansion uses), so that
    a rule making a million of them is refused before anything builds the million."""
    start = master.comp.decoded("DTSTART")
    wall = start.replace(tzinfo=None) if isinstance(start, datetime) else datetime.combine(start, time(0))
    stop = horizon.replace(tzinfo=None) + timedelta(days=1)     # near enough in any zone
    for rule in _props(master.comp, "RRULE"):
        text = _raw(rule)
        try:
            count = 0
            for instant in rrulestr(text, dtstart=wall, ignoretz=True):
                if instant > stop or count > MAX_OCCURRENCES:
                    break
                count += 1
        except Exception as exc:    # dateutil trips over some nonsense (BYDAY=60MO) with IndexError
            raise master.error(f"RRULE {text!r} is not valid: {_one_line(exc) or type(exc).__name__}") from None
        if count > MAX_OCCURRENCES:
            raise master.error(f"RRULE {text!r} makes more than {MAX_OCCURRENCES} shifts before "
                               f"{horizon:%Y-%m-%d}; export the rota as single events")
