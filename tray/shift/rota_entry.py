"""One stretch of a shift rota, and the wall-clock conversion every rota reader needs. A module of its
own so that both readers (the CSV one in tray.shift.rota, the iCalendar one in tray.shift.rota_ics) build entries
without importing each other: tray.shift.rota dispatches to tray.shift.rota_ics."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo


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


def local_to_utc(day: date, t: time, zone: tzinfo) -> datetime:
    """A wall-clock time on a day in `zone`, as aware UTC.

    In a spring-forward gap the time is read with the offset before the change, so it lands as
    far after the gap as it was into it (01:30 on a London gap day is 02:30 BST); in a fall-back
    overlap the first occurrence wins (fold=0)."""
    return datetime.combine(day, t, tzinfo=zone).astimezone(timezone.utc)
