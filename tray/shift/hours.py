"""The 2nd-line shift: when the user is at work, from `[shift]` (weekly hours, or a rota).

Pure: every function takes the clock (`now_utc`, aware) and the already-loaded rota as arguments.
All arithmetic is done on wall-clock times in the shift's zone, converted to UTC per day, so DST
days come out right (09:30 in London is 08:30 UTC in summer, 09:30 UTC in winter).

Shift windows are half-open [start, end). A shift whose end is before its start runs overnight
(22:00-06:00 ends the next morning); end == start is a 24-hour shift. A window belongs to the day
it starts on, so an overnight Friday shift runs into Saturday even when Saturday is not a shift day.
Adjacent windows merge (back-to-back 24-hour shifts are one stretch).
"""
from __future__ import annotations

import os
import re
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tray.core.errors import ConfigError, did_you_mean
from tray.shift.rota import RotaEntry, entries_for, local_to_utc

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # index = date.weekday()
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
KEYS = ("days", "start", "end", "timezone", "rota", "me")


@dataclass(frozen=True)
class ShiftSettings:
    """`[shift]` in the config. `days` are lower-case three-letter names in week order."""
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: str = "09:30"
    end: str = "17:30"
    timezone: str | None = None     # IANA name; None = the system's zone
    rota: str | None = None         # path or URL of a CSV / iCalendar rota
    me: str | None = None           # the user's name as written in the rota

    @property
    def start_time(self) -> time:
        return _parse_hhmm(self.start)

    @property
    def end_time(self) -> time:
        return _parse_hhmm(self.end)

    def zone(self) -> tzinfo:
        """The shift's zone: the configured one, else the system's."""
        return ZoneInfo(self.timezone) if self.timezone else system_zone()

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, where: str) -> "ShiftSettings":
        """Validate a `[shift]` table; `where` is the config file's path for error messages."""
        d = d or {}
        if not isinstance(d, dict):
            raise ConfigError(where, "shift", "must be a table ([shift])")
        for k in d:
            if k not in KEYS:
                near = did_you_mean(k, KEYS)
                raise ConfigError(where, f"shift.{k}", f"unknown key; did you mean {near!r}?" if near
                                  else f"unknown key (known: {', '.join(KEYS)})")
        kw: dict[str, Any] = {}
        if "days" in d:
            kw["days"] = _parse_days(d["days"], where)
        for k in ("start", "end"):
            if k in d:
                v = d[k]
                if not isinstance(v, str):
                    raise ConfigError(where, f"shift.{k}", f'must be a time of day like "09:30", got {v!r}')
                try:
                    _parse_hhmm(v)
                except ValueError as e:
                    raise ConfigError(where, f"shift.{k}", str(e)) from None
                kw[k] = v.strip()
        for k in ("timezone", "rota", "me"):
            if k in d:
                v = d[k]
                if not isinstance(v, str) or not v.strip():
                    raise ConfigError(where, f"shift.{k}", f"must be a non-empty string, got {v!r}")
                kw[k] = v.strip()
        if "timezone" in kw:
            try:
                ZoneInfo(kw["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(where, "shift.timezone",
                                  f"unknown time zone {kw['timezone']!r} (use an IANA name like "
                                  '"Europe/London")') from None
        if "rota" in kw and "me" not in kw:
            raise ConfigError(where, "shift.me", "required when shift.rota is set (your name as the rota writes it)")
        return cls(**kw)


def _parse_hhmm(value: str) -> time:
    m = _HHMM.match(value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f'{value!r} is not a 24-hour time of day like "09:30" (use "00:00" for midnight)')
    return time(int(m.group(1)), int(m.group(2)))


def _day_index(name: str) -> int:
    n = name.strip().lower()
    if n in DAY_NAMES:
        return DAY_NAMES.index(n)
    if n in _LONG_DAYS:
        return _LONG_DAYS.index(n)
    raise ValueError(n)


def _parse_days(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise ConfigError(where, "shift.days", f'must be a list of day names like ["mon", "tue"], got {value!r}')
    picked: set[int] = set()
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            a, sep, b = part.partition("-")
            try:
                if sep:   # "mon-fri", wrapping round the week for "fri-mon"
                    i, j = _day_index(a), _day_index(b)
                    picked.update((i + k) % 7 for k in range((j - i) % 7 + 1))
                else:
                    picked.add(_day_index(a))
            except ValueError as e:
                raise ConfigError(where, "shift.days",
                                  f"unknown day {str(e)!r} (use mon, tue, wed, thu, fri, sat, sun)") from None
    return tuple(DAY_NAMES[i] for i in sorted(picked))


# --- the system's zone -----------------------------------------------------------------------------

class _LocalZone(tzinfo):
    """The C library's idea of local time, DST included: the fallback when no IANA name is known
    (e.g. Windows without tzdata)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._local(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1) if self._local(dt).tm_isdst > 0 else timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return self._local(dt).tm_zone

    @staticmethod
    def _local(dt: datetime | None) -> _time.struct_time:
        if dt is None:
            return _time.localtime()
        naive = dt.replace(tzinfo=None)
        stamp = _time.mktime((naive.year, naive.month, naive.day, naive.hour, naive.minute,
                              naive.second, 0, 0, -1))
        return _time.localtime(stamp)

    def fromutc(self, dt: datetime) -> datetime:
        stamp = (dt.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds()
        off = _time.localtime(stamp).tm_gmtoff
        return dt + timedelta(seconds=off)


@lru_cache(maxsize=1)
def system_zone() -> tzinfo:
    """The system's zone as a ZoneInfo when its IANA name can be found (TZ, /etc/localtime link,
    /etc/timezone), else the C library's local time."""
    tz = os.environ.get("TZ", "").lstrip(":")
    candidates = [tz] if tz else []
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    for c in candidates:
        try:
            return ZoneInfo(c)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return _LocalZone()


# --- shift windows ---------------------------------------------------------------------------------

Window = tuple[datetime, datetime]


def _day_window(settings: ShiftSettings, day: date, zone: tzinfo) -> Window:
    start_t, end_t = settings.start_time, settings.end_time
    end_day = day if end_t > start_t else day + timedelta(days=1)
    return local_to_utc(day, start_t, zone), local_to_utc(end_day, end_t, zone)


def _uses_rota(settings: ShiftSettings, rota: Sequence[RotaEntry] | None) -> bool:
    return rota is not None and bool(settings.me)


def shift_windows(settings: ShiftSettings, frm_utc: datetime, to_utc: datetime,
                  rota: Sequence[RotaEntry] | None = None) -> list[Window]:
    """The (merged) shift windows overlapping [frm_utc, to_utc), in order, as aware UTC pairs.

    With a rota and `me`, the shift days are the rota's entries for `me`: all-day entries get the
    configured hours on each of their days, timed entries are used as they are. Without one (or
    with `rota=None`, e.g. not loaded yet) the weekly `days` apply."""
    zone = settings.zone()
    raw: list[Window] = []
    if _uses_rota(settings, rota):
        for e in entries_for(rota or (), settings.me or ""):
            if e.all_day:
                raw.extend(_day_window(settings, d, zone) for d in e.days(zone))
            else:
                raw.append((e.start, e.end))
    else:
        wanted = {DAY_NAMES.index(d) for d in settings.days}
        # Start a day early: yesterday's overnight shift may still be running.
        d = frm_utc.astimezone(zone).date() - timedelta(days=1)
        last = to_utc.astimezone(zone).date()
        while d <= last:
            if d.weekday() in wanted:
                raw.append(_day_window(settings, d, zone))
            d += timedelta(days=1)
    merged: list[list[datetime]] = []
    for s, e in sorted(raw):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged if e > frm_utc and s < to_utc]


def _horizon(settings: ShiftSettings, now_utc: datetime, rota: Sequence[RotaEntry] | None) -> datetime:
    if _uses_rota(settings, rota):
        ends = [e.end for e in rota or ()]
        return max(ends + [now_utc]) + timedelta(days=2)
    return now_utc + timedelta(days=15)     # two weeks: the longest stretch a merged week could run


def _current(settings: ShiftSettings, now_utc: datetime, rota: Sequence[RotaEntry] | None) -> Window | None:
    for s, e in shift_windows(settings, now_utc, _horizon(settings, now_utc, rota), rota):
        if s <= now_utc < e:
            return s, e
    return None


def on_shift(settings: ShiftSettings, now_utc: datetime, rota: Sequence[RotaEntry] | None = None) -> bool:
    """Is `now_utc` inside a shift?"""
    return any(s <= now_utc < e for s, e in shift_windows(settings, now_utc, now_utc + timedelta(seconds=1), rota))


def shift_end(settings: ShiftSettings, now_utc: datetime,
              rota: Sequence[RotaEntry] | None = None) -> datetime | None:
    """When the current shift ends (aware UTC), or None when not on shift now."""
    w = _current(settings, now_utc, rota)
    return w[1] if w else None


def next_shift(settings: ShiftSettings, now_utc: datetime,
               rota: Sequence[RotaEntry] | None = None) -> datetime | None:
    """When the next shift starts (strictly after now; aware UTC), or None if none is known."""
    for s, _ in shift_windows(settings, now_utc, _horizon(settings, now_utc, rota), rota):
        if s > now_utc:
            return s
    return None


def _fmt_day(d: date, today: date) -> str:
    text = f"{DAY_NAMES[d.weekday()].capitalize()} {d.day} {_MONTHS[d.month - 1]}"
    return text if d.year == today.year else f"{text} {d.year}"


def shift_text(settings: ShiftSettings, now_utc: datetime, rota: Sequence[RotaEntry] | None = None) -> str:
    """One line for the menu: "On shift until 17:30", "On shift today from 09:30",
    "Next shift: Mon 1 Dec" (with the time when it is not the usual start), "No shift scheduled"."""
    zone = settings.zone()
    today = now_utc.astimezone(zone).date()
    cur = _current(settings, now_utc, rota)
    if cur:
        end = cur[1].astimezone(zone)
        if end.date() == today:
            return f"On shift until {end:%H:%M}"
        if end.date() == today + timedelta(days=1):
            return f"On shift until {DAY_NAMES[end.weekday()].capitalize()} {end:%H:%M}"
        return f"On shift until {_fmt_day(end.date(), today)} {end:%H:%M}"
    nxt = next_shift(settings, now_utc, rota)
    if nxt is None:
        return "No shift scheduled"
    start = nxt.astimezone(zone)
    if start.date() == today:
        return f"On shift today from {start:%H:%M}"
    text = f"Next shift: {_fmt_day(start.date(), today)}"
    if start.time().replace(second=0, microsecond=0) != settings.start_time:
        text += f" {start:%H:%M}"
    return text


__all__ = ("ShiftSettings", "on_shift", "shift_end", "next_shift", "shift_text", "shift_windows",
           "system_zone", "DAY_NAMES")
