"""A shift rota read from text: CSV or iCalendar, turned into `RotaEntry`s (who works when).

Pure: the caller reads the file or URL and passes its text here. The entry type is in
tray/shift/rota_entry.py (both readers build entries); this module holds the dispatcher that decides which
format the text is, and the CSV reader (standard library only).
iCalendar is read in tray/shift/rota_ics.py with the `icalendar` and `recurring-ical-events` libraries:
real exports (Google Calendar, Outlook, PagerDuty feeds) carry VTIMEZONE blocks, Windows zone
names and every kind of RRULE, which an ecosystem parser handles and a hand-written one did not.

CSV: a header row with `date` and `name` (case-insensitive, any order, extra columns ignored) and
optionally `start` and `end` (a time of day "HH:MM" on that date, or a full ISO date-time).
Rows without start/end are whole-day entries: the shift's own hours apply on that day.

iCalendar: every VEVENT is a stretch of the rota with SUMMARY = the person's name; see
tray/shift/rota_ics.py for what is read and how.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Iterable, Sequence

from tray.shift.rota_entry import RotaEntry, local_to_utc


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def entries_for(rota: Iterable[RotaEntry], me: str) -> list[RotaEntry]:
    """The entries naming `me` (case and extra spaces ignored), in start order."""
    want = _norm(me)
    return sorted((e for e in rota if _norm(e.name) == want), key=lambda e: e.start)


def load_rota_text(text: str, hint: str | None = None, tz: tzinfo | None = None,
                   now: datetime | None = None) -> list[RotaEntry]:
    """Parse a rota. `hint` is a file name, URL, content type, or "csv"/"ics"; without a telling
    hint the text itself decides. `tz` is the zone for dates and floating times (pass the shift's
    zone; default UTC). `now` bounds open-ended repeating events: they are expanded to 400 days
    after it (without it, to two years after each event's start). Raises ValueError with a one-line
    reason on bad input: "line N: reason" for CSV; for iCalendar the line of the broken component
    and, for an event, its SUMMARY and UID ('line 12: event "Alice" (UID x): reason')."""
    zone = tz or timezone.utc
    if text.startswith("\ufeff"):          # Excel and Outlook like to write a byte-order mark
        text = text[1:]
    kind = _kind(text, hint)
    if kind == "ics":
        from tray.shift.rota_ics import parse_ics     # here: only an iCalendar rota needs the icalendar libraries
        entries = parse_ics(text, zone, now)
    else:
        entries = _parse_csv(text, zone)
    return sorted(entries, key=lambda e: (e.start, e.name))


def _kind(text: str, hint: str | None) -> str:
    h = (hint or "").lower().split("?")[0].split(";")[0].strip()
    if h in ("ics", "ical", "icalendar") or h.endswith((".ics", ".ical", ".ifb")) or h == "text/calendar":
        return "ics"
    if h == "csv" or h.endswith(".csv") or h == "text/csv":
        return "csv"
    return "ics" if text.lstrip().upper().startswith("BEGIN:VCALENDAR") else "csv"


# --- CSV ---------------------------------------------------------------------------------------

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_csv(text: str, zone: tzinfo) -> list[RotaEntry]:
    lines = text.splitlines()
    # Skip leading blank and comment lines to find the header, remembering line numbers.
    first = 0
    while first < len(lines) and (not lines[first].strip() or lines[first].lstrip().startswith("#")):
        first += 1
    if first == len(lines):
        raise ValueError("line 1: empty rota (expected a header row: date,name)")
    header_line = lines[first]
    delimiter = max((",", ";", "\t"), key=header_line.count)   # European Excel writes ';'
    reader = csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    for need in ("date", "name"):
        if need not in header:
            raise ValueError(f"line {first + 1}: header has no '{need}' column "
                             f"(expected date,name[,start,end]; got {','.join(header)})")
    col = {h: i for i, h in enumerate(header)}
    has_times = "start" in col or "end" in col
    if has_times and not ("start" in col and "end" in col):
        raise ValueError(f"line {first + 1}: header needs both 'start' and 'end' columns, or neither")
    out: list[RotaEntry] = []
    for row in reader:
        lineno = first + reader.line_num
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue

        def cell(name: str) -> str:
            i = col[name]
            return row[i].strip() if i < len(row) else ""

        name = cell("name")
        if not name:
            raise ValueError(f"line {lineno}: empty name")
        raw_date = cell("date")
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise ValueError(f"line {lineno}: date {raw_date!r} is not an ISO date (YYYY-MM-DD)") from None
        start_s = cell("start") if has_times else ""
        end_s = cell("end") if has_times else ""
        if not start_s and not end_s:
            out.append(_all_day(name, day, day + timedelta(days=1), zone))
            continue
        if not start_s or not end_s:
            raise ValueError(f"line {lineno}: give both start and end, or neither")
        start = _csv_time(start_s, day, zone, lineno, "start")
        end = _csv_time(end_s, day, zone, lineno, "end")
        if end <= start and _HHMM.match(end_s):
            # "22:00,06:00": an overnight shift ends the next morning.
            end = _csv_time(end_s, day + timedelta(days=1), zone, lineno, "end")
        if end <= start:
            raise ValueError(f"line {lineno}: end {end_s!r} is not after start {start_s!r}")
        out.append(RotaEntry(name, start, end))
    return out


def _csv_time(value: str, day: date, zone: tzinfo, lineno: int, what: str) -> datetime:
    m = _HHMM.match(value)
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        if h > 23 or mi > 59:
            raise ValueError(f"line {lineno}: {what} {value!r} is not a time of day (HH:MM)")
        return local_to_utc(day, time(h, mi), zone)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"line {lineno}: {what} {value!r} is neither HH:MM nor an ISO date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return dt.astimezone(timezone.utc)


def _all_day(name: str, first: date, end_excl: date, zone: tzinfo) -> RotaEntry:
    return RotaEntry(name, local_to_utc(first, time(0), zone), local_to_utc(end_excl, time(0), zone), True)


__all__: Sequence[str] = ("RotaEntry", "entries_for", "load_rota_text", "local_to_utc")
