"""A shift rota read from text: CSV or iCalendar, turned into `RotaEntry`s (who works when).

Pure: the caller reads the file or URL and passes its text here. Only the standard library is
used, so the parser runs the same in the frozen Windows/macOS builds.

CSV: a header row with `date` and `name` (case-insensitive, any order, extra columns ignored) and
optionally `start` and `end` (a time of day "HH:MM" on that date, or a full ISO date-time).
Rows without start/end are whole-day entries: the shift's own hours apply on that day.

iCalendar: every VEVENT with DTSTART (DATE, or DATE-TIME in UTC "Z", with TZID, or floating), DTEND
or DURATION, and SUMMARY = the person's name. Cancelled events are skipped. Repeating events
(RRULE) are refused with a clear message rather than silently read as one occurrence.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class RotaEntry:
    """One stretch of the rota. `start`/`end` are aware UTC, `end` exclusive.

    `all_day` entries name calendar days (CSV rows without times, iCalendar DATE values): their
    start/end are local midnights in the zone the rota was read with, and the shift's own hours
    apply on each of those days.
    """
    name: str
    start: datetime
    end: datetime
    all_day: bool = False

    def days(self, zone: tzinfo) -> list[date]:
        """The calendar days an all-day entry covers, in `zone`."""
        first = self.start.astimezone(zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        out = []
        d = first
        while d <= last:
            out.append(d)
            d += timedelta(days=1)
        return out


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def entries_for(rota: Iterable[RotaEntry], me: str) -> list[RotaEntry]:
    """The entries naming `me` (case and extra spaces ignored), in start order."""
    want = _norm(me)
    return sorted((e for e in rota if _norm(e.name) == want), key=lambda e: e.start)


def load_rota_text(text: str, hint: str | None = None, tz: tzinfo | None = None) -> list[RotaEntry]:
    """Parse a rota. `hint` is a file name, URL, content type, or "csv"/"ics"; without a telling
    hint the text itself decides. `tz` is the zone for dates and floating times (pass the shift's
    zone; default UTC). Raises ValueError("line N: reason") on bad input."""
    zone = tz or timezone.utc
    if text.startswith("\ufeff"):          # Excel and Outlook like to write a byte-order mark
        text = text[1:]
    kind = _kind(text, hint)
    entries = _parse_ics(text, zone) if kind == "ics" else _parse_csv(text, zone)
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


def local_to_utc(day: date, t: time, zone: tzinfo) -> datetime:
    """A wall-clock time on a day in `zone`, as aware UTC.

    In a spring-forward gap the time is read with the offset before the change, so it lands as
    far after the gap as it was into it (01:30 on a London gap day is 02:30 BST); in a fall-back
    overlap the first occurrence wins (fold=0)."""
    return datetime.combine(day, t, tzinfo=zone).astimezone(timezone.utc)


def _all_day(name: str, first: date, end_excl: date, zone: tzinfo) -> RotaEntry:
    return RotaEntry(name, local_to_utc(first, time(0), zone), local_to_utc(end_excl, time(0), zone), True)


# --- iCalendar (RFC 5545) ----------------------------------------------------------------------

# Outlook/Exchange write Windows zone names in TZID; map the common ones rather than parse VTIMEZONE.
_WINDOWS_ZONES = {
    "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest",
    "central european standard time": "Europe/Warsaw",
    "romance standard time": "Europe/Paris",
    "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kiev",
    "eastern standard time": "America/New_York",
    "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver",
    "pacific standard time": "America/Los_Angeles",
    "india standard time": "Asia/Kolkata",
    "aus eastern standard time": "Australia/Sydney",
    "lord howe standard time": "Australia/Lord_Howe",
    "utc": "UTC",
}

_DURATION = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


@dataclass
class _Prop:
    name: str
    params: dict[str, str]
    value: str
    line: int


def _unfold(text: str) -> list[tuple[int, str]]:
    """Content lines with their starting physical line number (RFC 5545 3.1: a line starting with
    a space or tab continues the previous one)."""
    out: list[tuple[int, str]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + raw[1:])
        elif raw.strip():
            out.append((n, raw))
    return out


def _split_line(n: int, line: str) -> _Prop:
    # Find the ':' that ends name;params, skipping ':' inside quoted parameter values.
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1:]
            break
    else:
        raise ValueError(f"line {n}: not an iCalendar content line (no ':'): {line[:60]!r}")
    parts = re.findall(r'(?:[^;"]|"[^"]*")+', head)
    if not parts:
        raise ValueError(f"line {n}: property without a name")
    params: dict[str, str] = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.strip().upper()] = v.strip().strip('"')
    return _Prop(parts[0].strip().upper(), params, value, n)


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _zone_for(tzid: str, n: int) -> tzinfo:
    candidates = [tzid, tzid.strip("/")]
    # "/mozilla.org/20050126_1/Europe/London" and similar prefixed ids end in an IANA name.
    segs = tzid.strip("/").split("/")
    if len(segs) >= 2:
        candidates += ["/".join(segs[-2:]), "/".join(segs[-3:])]
    if tzid.strip().lower() in _WINDOWS_ZONES:
        candidates.insert(0, _WINDOWS_ZONES[tzid.strip().lower()])
    for c in candidates:
        try:
            return ZoneInfo(c)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    raise ValueError(f"line {n}: unknown time zone TZID={tzid!r}")


def _ics_value(prop: _Prop, zone: tzinfo) -> tuple[datetime, bool]:
    """(aware UTC, is_date) for a DTSTART/DTEND property."""
    v = prop.value.strip()
    is_date = prop.params.get("VALUE", "").upper() == "DATE" or re.fullmatch(r"\d{8}", v) is not None
    try:
        if is_date:
            d = datetime.strptime(v, "%Y%m%d").date()
            return local_to_utc(d, time(0), zone), True
        if v.endswith("Z"):
            return datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc), False
        naive = datetime.strptime(v, "%Y%m%dT%H%M%S")
    except ValueError:
        raise ValueError(f"line {prop.line}: {prop.name} {v!r} is not an iCalendar date or date-time") from None
    z = _zone_for(prop.params["TZID"], prop.line) if "TZID" in prop.params else zone
    return local_to_utc(naive.date(), naive.time(), z), False


def _ics_duration(prop: _Prop) -> timedelta:
    m = _DURATION.match(prop.value.strip())
    if not m or not any(m.groups()[1:]):
        raise ValueError(f"line {prop.line}: DURATION {prop.value!r} is not an iCalendar duration")
    sign, w, d, h, mi, s = m.groups()
    delta = timedelta(weeks=int(w or 0), days=int(d or 0), hours=int(h or 0),
                      minutes=int(mi or 0), seconds=int(s or 0))
    return -delta if sign == "-" else delta


def _parse_ics(text: str, zone: tzinfo) -> list[RotaEntry]:
    lines = _unfold(text)
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        raise ValueError(f"line {lines[0][0] if lines else 1}: iCalendar must start with BEGIN:VCALENDAR")
    out: list[RotaEntry] = []
    event: dict[str, _Prop] | None = None
    event_line = 0
    depth: list[str] = []
    for n, line in lines:
        prop = _split_line(n, line)
        if prop.name == "BEGIN":
            comp = prop.value.strip().upper()
            depth.append(comp)
            if comp == "VEVENT":
                event, event_line = {}, n
            continue
        if prop.name == "END":
            comp = prop.value.strip().upper()
            if not depth or depth[-1] != comp:
                raise ValueError(f"line {n}: END:{comp} without matching BEGIN")
            depth.pop()
            if comp == "VEVENT" and event is not None:
                entry = _event_entry(event, event_line, zone)
                if entry is not None:
                    out.append(entry)
                event = None
            continue
        # Properties of VEVENT's own sub-components (VALARM) must not overwrite the event's.
        if event is not None and depth and depth[-1] == "VEVENT":
            event.setdefault(prop.name, prop)
    if depth:
        raise ValueError(f"line {lines[-1][0]}: BEGIN:{depth[-1]} is never closed (truncated file?)")
    return out


def _event_entry(ev: dict[str, _Prop], line: int, zone: tzinfo) -> RotaEntry | None:
    if "STATUS" in ev and ev["STATUS"].value.strip().upper() == "CANCELLED":
        return None
    if "RRULE" in ev:
        raise ValueError(f"line {ev['RRULE'].line}: repeating events (RRULE) are not supported; "
                         "export the rota as single events")
    if "DTSTART" not in ev:
        raise ValueError(f"line {line}: VEVENT without DTSTART")
    if "SUMMARY" not in ev or not _unescape(ev["SUMMARY"].value).strip():
        raise ValueError(f"line {line}: VEVENT without a SUMMARY (the person's name)")
    name = " ".join(_unescape(ev["SUMMARY"].value).split())
    start, all_day = _ics_value(ev["DTSTART"], zone)
    if "DTEND" in ev:
        end, _ = _ics_value(ev["DTEND"], zone)
    elif "DURATION" in ev:
        if all_day:
            # A day-based duration counts calendar days, not 24-hour stretches (DST days).
            d0 = start.astimezone(zone).date()
            days = _ics_duration(ev["DURATION"]).days
            end = local_to_utc(d0 + timedelta(days=days), time(0), zone)
        else:
            end = start + _ics_duration(ev["DURATION"])
    elif all_day:
        end = local_to_utc(start.astimezone(zone).date() + timedelta(days=1), time(0), zone)
    else:
        end = start     # RFC 5545: a date-time DTSTART without end is an instant
    if end < start or (end == start and all_day):
        raise ValueError(f"line {line}: event ends before it starts")
    if end == start:
        return None     # an instant covers no time on shift
    return RotaEntry(name, start, end, all_day)


__all__: Sequence[str] = ("RotaEntry", "entries_for", "load_rota_text", "local_to_utc")
