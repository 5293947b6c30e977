"""A shift rota read from text: CSV or iCalendar, turned into `RotaEntry`s (who works when).

Pure: the caller reads the file or URL and passes its text here. Only the standard library is
used, so the parser runs the same in the frozen Windows/macOS builds.

CSV: a header row with `date` and `name` (case-insensitive, any order, extra columns ignored) and
optionally `start` and `end` (a time of day "HH:MM" on that date, or a full ISO date-time).
Rows without start/end are whole-day entries: the shift's own hours apply on that day.

iCalendar: every VEVENT with DTSTART (DATE, or DATE-TIME in UTC "Z", with TZID, or floating), DTEND
or DURATION, and SUMMARY = the person's name. Cancelled events are skipped. Repeating events are
expanded for the rules a rota uses (DAILY / WEEKLY with INTERVAL, COUNT, UNTIL, BYDAY, WKST; EXDATE
and RECURRENCE-ID overrides); anything fancier is refused with a clear message rather than silently
read as one occurrence.
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


def load_rota_text(text: str, hint: str | None = None, tz: tzinfo | None = None,
                   now: datetime | None = None) -> list[RotaEntry]:
    """Parse a rota. `hint` is a file name, URL, content type, or "csv"/"ics"; without a telling
    hint the text itself decides. `tz` is the zone for dates and floating times (pass the shift's
    zone; default UTC). `now` bounds open-ended repeating events: they are expanded to 400 days
    after it (without it, to two years after each event's start). Raises ValueError("line N:
    reason") on bad input."""
    zone = tz or timezone.utc
    if text.startswith("\ufeff"):          # Excel and Outlook like to write a byte-order mark
        text = text[1:]
    kind = _kind(text, hint)
    entries = _parse_ics(text, zone, now) if kind == "ics" else _parse_csv(text, zone)
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
_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_DURATION = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_MAX_OCCURRENCES = 10000     # a runaway rule must not hang the tray


@dataclass
class _Prop:
    name: str
    params: dict[str, str]
    value: str
    line: int


@dataclass
class _Event:
    line: int
    props: dict[str, _Prop]     # the first of each property
    exdates: list[_Prop]        # EXDATE may repeat


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


def _wall(prop: _Prop, value: str, zone: tzinfo) -> tuple[datetime, tzinfo, bool]:
    """(naive wall-clock time, its zone, is_date) of one DATE / DATE-TIME value of `prop`."""
    v = value.strip()
    is_date = prop.params.get("VALUE", "").upper() == "DATE" or re.fullmatch(r"\d{8}", v) is not None
    try:
        if is_date:
            return datetime.strptime(v, "%Y%m%d"), zone, True
        if v.endswith("Z"):
            return datetime.strptime(v, "%Y%m%dT%H%M%SZ"), timezone.utc, False
        naive = datetime.strptime(v, "%Y%m%dT%H%M%S")
    except ValueError:
        raise ValueError(f"line {prop.line}: {prop.name} {v!r} is not an iCalendar date or date-time") from None
    return naive, (_zone_for(prop.params["TZID"], prop.line) if "TZID" in prop.params else zone), False


def _instant(wall: datetime, z: tzinfo) -> datetime:
    return local_to_utc(wall.date(), wall.time(), z)


def _ics_duration(prop: _Prop) -> timedelta:
    m = _DURATION.match(prop.value.strip())
    if not m or not any(m.groups()[1:]):
        raise ValueError(f"line {prop.line}: DURATION {prop.value!r} is not an iCalendar duration")
    sign, w, d, h, mi, s = m.groups()
    delta = timedelta(weeks=int(w or 0), days=int(d or 0), hours=int(h or 0),
                      minutes=int(mi or 0), seconds=int(s or 0))
    return -delta if sign == "-" else delta


def _read_events(text: str) -> list[_Event]:
    lines = _unfold(text)
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        raise ValueError(f"line {lines[0][0] if lines else 1}: iCalendar must start with BEGIN:VCALENDAR")
    out: list[_Event] = []
    event: _Event | None = None
    depth: list[str] = []
    for n, line in lines:
        prop = _split_line(n, line)
        if prop.name == "BEGIN":
            comp = prop.value.strip().upper()
            depth.append(comp)
            if comp == "VEVENT":
                event = _Event(n, {}, [])
            continue
        if prop.name == "END":
            comp = prop.value.strip().upper()
            if not depth or depth[-1] != comp:
                raise ValueError(f"line {n}: END:{comp} without matching BEGIN")
            depth.pop()
            if comp == "VEVENT" and event is not None:
                out.append(event)
                event = None
            continue
        # Properties of VEVENT's own sub-components (VALARM) must not overwrite the event's.
        if event is not None and depth and depth[-1] == "VEVENT":
            if prop.name == "EXDATE":
                event.exdates.append(prop)
            event.props.setdefault(prop.name, prop)
    if depth:
        raise ValueError(f"line {lines[-1][0]}: BEGIN:{depth[-1]} is never closed (truncated file?)")
    return out


def _parse_ics(text: str, zone: tzinfo, now: datetime | None) -> list[RotaEntry]:
    events = _read_events(text)
    # A changed or cancelled instance of a repeating event is its own VEVENT with the same UID and
    # a RECURRENCE-ID naming the instance it replaces.
    replaced: set[tuple[str, datetime]] = set()
    for ev in events:
        if "RECURRENCE-ID" in ev.props and "UID" in ev.props:
            rid = ev.props["RECURRENCE-ID"]
            replaced.add((ev.props["UID"].value.strip(), _instant(*_wall(rid, rid.value, zone)[:2])))
    out: list[RotaEntry] = []
    for ev in events:
        out.extend(_event_entries(ev, zone, now, replaced))
    return out


def _event_entries(ev: _Event, zone: tzinfo, now: datetime | None,
                   replaced: set[tuple[str, datetime]]) -> list[RotaEntry]:
    p = ev.props
    if "STATUS" in p and p["STATUS"].value.strip().upper() == "CANCELLED":
        return []
    if "DTSTART" not in p:
        raise ValueError(f"line {ev.line}: VEVENT without DTSTART")
    if "SUMMARY" not in p or not _unescape(p["SUMMARY"].value).strip():
        raise ValueError(f"line {ev.line}: VEVENT without a SUMMARY (the person's name)")
    name = " ".join(_unescape(p["SUMMARY"].value).split())
    start_wall, z, all_day = _wall(p["DTSTART"], p["DTSTART"].value, zone)
    start = _instant(start_wall, z)
    # The length on the wall clock, so that a repeating 22:00-06:00 night stays 22:00-06:00 across
    # a DST change (RFC 5545 would keep the exact duration; people mean the clock).
    if "DTEND" in p:
        end_wall, end_z, _ = _wall(p["DTEND"], p["DTEND"].value, zone)
        # When the two zones differ, the exact span is all there is to go by.
        length = end_wall - start_wall if end_z is z else _instant(end_wall, end_z) - start
    elif "DURATION" in p:
        length = _ics_duration(p["DURATION"])
        if all_day:
            length = timedelta(days=length.days)
    else:
        # RFC 5545: a DATE start without end is one day; a DATE-TIME start without end is an instant.
        length = timedelta(days=1) if all_day else timedelta(0)
    if length < timedelta(0) or (length == timedelta(0) and all_day):
        raise ValueError(f"line {ev.line}: event ends before it starts")
    starts = [start_wall]
    if "RRULE" in p and "RECURRENCE-ID" not in p:
        horizon = (now + timedelta(days=400)) if now else start + timedelta(days=730)
        starts = _expand(p["RRULE"], start_wall, z, horizon)
    if length == timedelta(0):
        return []       # an instant covers no time on shift
    excluded: set[datetime] = set()
    for ex in ev.exdates:
        for v in ex.value.split(","):
            excluded.add(_instant(*_wall(ex, v, zone)[:2]))
    uid = p["UID"].value.strip() if "UID" in p else None
    out = []
    for s in starts:
        begin = _instant(s, z)
        if begin in excluded or (uid is not None and "RECURRENCE-ID" not in p and (uid, begin) in replaced):
            continue
        out.append(RotaEntry(name, begin, _instant(s + length, z), all_day))
    return out


def _expand(rule: _Prop, first: datetime, z: tzinfo, horizon: datetime) -> list[datetime]:
    """The wall-clock starts of a repeating event: FREQ=DAILY or WEEKLY with INTERVAL, COUNT, UNTIL,
    BYDAY (plain days) and WKST; enough for any shift rota. Open-ended rules stop at `horizon`."""
    def bad(reason: str) -> ValueError:
        return ValueError(f"line {rule.line}: RRULE {reason}")

    parts: dict[str, str] = {}
    for item in rule.value.strip().split(";"):
        if item:
            k, sep, v = item.partition("=")
            if not sep:
                raise bad(f"part {item!r} is not NAME=VALUE")
            parts[k.strip().upper()] = v.strip().upper()
    freq = parts.pop("FREQ", None)
    if freq not in ("DAILY", "WEEKLY"):
        raise bad(f"FREQ={freq} is not supported (only DAILY and WEEKLY); export the rota as single events")
    try:
        interval = int(parts.pop("INTERVAL", "1"))
        count = int(parts["COUNT"]) if "COUNT" in parts else None
    except ValueError:
        raise bad("INTERVAL and COUNT must be whole numbers") from None
    parts.pop("COUNT", None)
    if interval < 1 or (count is not None and count < 1):
        raise bad("INTERVAL and COUNT must be at least 1")
    until: datetime | None = None
    if "UNTIL" in parts:
        u_wall, u_zone, u_date = _wall(rule, parts.pop("UNTIL"), z)
        # A DATE "until" includes that whole day.
        until = _instant(u_wall + timedelta(days=1), u_zone) - timedelta(microseconds=1) if u_date \
            else _instant(u_wall, u_zone)
    byday: list[int] | None = None
    if "BYDAY" in parts:
        try:
            byday = sorted({_WEEKDAYS[d.strip()] for d in parts.pop("BYDAY").split(",")})
        except KeyError:
            raise bad("BYDAY must list plain days (MO,TU,...); numbered days like 1MO are not supported") from None
    try:
        wkst = _WEEKDAYS[parts.pop("WKST", "MO")]
    except KeyError:
        raise bad("WKST must be a day (MO..SU)") from None
    if parts:
        raise bad(f"{', '.join(sorted(parts))} is not supported; export the rota as single events")

    out = [first]           # DTSTART is always the first instance
    limit = until if until is not None and until < horizon else horizon

    def take(candidate: datetime) -> bool:
        """Add one; False when the rule is exhausted."""
        if _instant(candidate, z) > limit or (count is not None and len(out) >= count):
            return False
        if len(out) >= _MAX_OCCURRENCES:
            raise bad(f"makes more than {_MAX_OCCURRENCES} shifts")
        out.append(candidate)
        return True

    if freq == "DAILY":
        d = first
        while True:
            d += timedelta(days=interval)
            if byday is not None and d.weekday() not in byday:
                if _instant(d, z) > limit:
                    break
                continue
            if not take(d):
                break
    else:
        days = sorted(byday if byday is not None else [first.weekday()], key=lambda wd: (wd - wkst) % 7)
        week = first - timedelta(days=(first.weekday() - wkst) % 7)
        going = True
        while going:
            for wd in days:
                d = week + timedelta(days=(wd - wkst) % 7)
                if d <= first:
                    continue
                if not take(d):
                    going = False
                    break
            week += timedelta(weeks=interval)
    return out


__all__: Sequence[str] = ("RotaEntry", "entries_for", "load_rota_text", "local_to_utc")
