"""Shift hours over time zones and DST change days, with a fake clock (every `now` is given).

Expected UTC instants below were worked out by hand from the zones' rules (2026):
London BST 29 Mar 01:00Z - 25 Oct 01:00Z; New York EDT 8 Mar 07:00Z - 1 Nov 06:00Z;
Kolkata +05:30 all year; Lord Howe +11:00 until 4 Apr 15:00Z, +10:30 until 3 Oct 15:30Z, then +11:00.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from zoneinfo import ZoneInfo

from tray.core.errors import ConfigError
from tray.shift.rota import load_rota_text, local_to_utc
from tray.shift.hours import (ShiftSettings, next_shift, on_shift, shift_end, shift_text, shift_windows,
                        system_zone)

ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def U(s: str) -> datetime:
    """An aware UTC instant from "2026-03-29 08:30"."""
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def S(zone: str, days=ALL_WEEK, start="09:30", end="17:30", **kw) -> ShiftSettings:
    return ShiftSettings(days=tuple(days), start=start, end=end, timezone=zone, **kw)


# (zone, start, end, local day the shift starts, expected UTC start, expected UTC end)
WINDOWS = [
    # London: winter, summer, and both change days and the days before them.
    ("Europe/London", "09:30", "17:30", "2026-01-15", "2026-01-15 09:30", "2026-01-15 17:30"),
    ("Europe/London", "09:30", "17:30", "2026-07-01", "2026-07-01 08:30", "2026-07-01 16:30"),
    ("Europe/London", "09:30", "17:30", "2026-03-28", "2026-03-28 09:30", "2026-03-28 17:30"),
    ("Europe/London", "09:30", "17:30", "2026-03-29", "2026-03-29 08:30", "2026-03-29 16:30"),
    ("Europe/London", "09:30", "17:30", "2026-10-24", "2026-10-24 08:30", "2026-10-24 16:30"),
    ("Europe/London", "09:30", "17:30", "2026-10-25", "2026-10-25 09:30", "2026-10-25 17:30"),
    # Overnight across the change: 7 hours in spring, 9 in autumn.
    ("Europe/London", "22:00", "06:00", "2026-03-28", "2026-03-28 22:00", "2026-03-29 05:00"),
    ("Europe/London", "22:00", "06:00", "2026-10-24", "2026-10-24 21:00", "2026-10-25 06:00"),
    # A start inside the spring gap (01:00-02:00 does not exist) lands after it; an ambiguous
    # autumn time takes its first occurrence (BST).
    ("Europe/London", "01:30", "09:00", "2026-03-29", "2026-03-29 01:30", "2026-03-29 08:00"),
    ("Europe/London", "01:30", "09:00", "2026-10-25", "2026-10-25 00:30", "2026-10-25 09:00"),
    # New York.
    ("America/New_York", "09:30", "17:30", "2026-03-07", "2026-03-07 14:30", "2026-03-07 22:30"),
    ("America/New_York", "09:30", "17:30", "2026-03-08", "2026-03-08 13:30", "2026-03-08 21:30"),
    ("America/New_York", "09:30", "17:30", "2026-10-31", "2026-10-31 13:30", "2026-10-31 21:30"),
    ("America/New_York", "09:30", "17:30", "2026-11-01", "2026-11-01 14:30", "2026-11-01 22:30"),
    ("America/New_York", "23:00", "07:00", "2026-03-07", "2026-03-08 04:00", "2026-03-08 11:00"),
    ("America/New_York", "23:00", "07:00", "2026-10-31", "2026-11-01 03:00", "2026-11-01 12:00"),
    # Kolkata: a half-hour offset, no DST.
    ("Asia/Kolkata", "09:30", "17:30", "2026-03-29", "2026-03-29 04:00", "2026-03-29 12:00"),
    ("Asia/Kolkata", "09:30", "17:30", "2026-07-01", "2026-07-01 04:00", "2026-07-01 12:00"),
    ("Asia/Kolkata", "20:00", "04:30", "2026-12-31", "2026-12-31 14:30", "2026-12-31 23:00"),
    # Lord Howe: a half-hour DST. The local day starts the previous UTC day.
    ("Australia/Lord_Howe", "09:30", "17:30", "2026-01-15", "2026-01-14 22:30", "2026-01-15 06:30"),
    ("Australia/Lord_Howe", "09:30", "17:30", "2026-07-01", "2026-06-30 23:00", "2026-07-01 07:00"),
    ("Australia/Lord_Howe", "09:30", "17:30", "2026-04-04", "2026-04-03 22:30", "2026-04-04 06:30"),
    ("Australia/Lord_Howe", "09:30", "17:30", "2026-04-05", "2026-04-04 23:00", "2026-04-05 07:00"),
    ("Australia/Lord_Howe", "09:30", "17:30", "2026-10-03", "2026-10-02 23:00", "2026-10-03 07:00"),
    ("Australia/Lord_Howe", "09:30", "17:30", "2026-10-04", "2026-10-03 22:30", "2026-10-04 06:30"),
    ("Australia/Lord_Howe", "22:00", "06:00", "2026-04-04", "2026-04-04 11:00", "2026-04-04 19:30"),
    ("Australia/Lord_Howe", "22:00", "06:00", "2026-10-03", "2026-10-03 11:30", "2026-10-03 19:00"),
    # end == start: a 24-hour shift (23 hours on London's spring day).
    ("Europe/London", "09:30", "09:30", "2026-03-28", "2026-03-28 09:30", "2026-03-29 08:30"),
]


@pytest.mark.parametrize("zone,start,end,day,exp_start,exp_end", WINDOWS)
def test_window_on_a_given_day(zone, start, end, day, exp_start, exp_end):
    d = date.fromisoformat(day)
    s = S(zone, days=[("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()]], start=start, end=end)
    a, b = U(exp_start), U(exp_end)
    # The window itself.
    assert shift_windows(s, a - timedelta(hours=1), a + timedelta(hours=1)) == [(a, b)]
    # The clock just before, at, inside, at the end of, and after the shift.
    assert not on_shift(s, a - timedelta(seconds=1))
    assert on_shift(s, a)
    assert on_shift(s, b - timedelta(seconds=1))
    assert not on_shift(s, b)
    assert next_shift(s, a - timedelta(minutes=5)) == a
    assert shift_end(s, a) == b
    assert shift_end(s, a + (b - a) / 2) == b
    assert shift_end(s, b) is None
    assert shift_end(s, a - timedelta(seconds=1)) is None


# (zone, days, start, end, now UTC, on shift?, shift_end UTC, next_shift UTC, menu text)
CLOCK = [
    # London, Mon-Fri 09:30-17:30. Thu 26 Nov 2026 (winter).
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-11-26 08:00", False, None, "2026-11-26 09:30",
     "On shift today from 09:30"),
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-11-26 12:00", True, "2026-11-26 17:30",
     "2026-11-27 09:30", "On shift until 17:30"),
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-11-26 17:30", False, None, "2026-11-27 09:30",
     "Next shift: Fri 27 Nov"),
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-11-27 18:00", False, None, "2026-11-30 09:30",
     "Next shift: Mon 30 Nov"),
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-11-29 23:59", False, None, "2026-11-30 09:30",
     "Next shift: Mon 30 Nov"),
    # Summer: 09:30 BST is 08:30 UTC.
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-07-01 08:29", False, None, "2026-07-01 08:30",
     "On shift today from 09:30"),
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-07-01 08:30", True, "2026-07-01 16:30",
     "2026-07-02 08:30", "On shift until 17:30"),
    # Friday evening before the spring change: the next shift (Monday) is already BST.
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-03-27 18:00", False, None, "2026-03-30 08:30",
     "Next shift: Mon 30 Mar"),
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-10-23 18:00", False, None, "2026-10-26 09:30",
     "Next shift: Mon 26 Oct"),
    # The year turns: the date says so.
    ("Europe/London", "mon-fri", "09:30", "17:30", "2026-12-31 18:00", False, None, "2027-01-01 09:30",
     "Next shift: Fri 1 Jan 2027"),
    # Overnight Fri 22:00 - Sat 06:00; Saturday morning is still Friday's shift.
    ("Europe/London", "fri", "22:00", "06:00", "2026-11-28 05:59", True, "2026-11-28 06:00",
     "2026-12-04 22:00", "On shift until 06:00"),
    ("Europe/London", "fri", "22:00", "06:00", "2026-11-27 23:00", True, "2026-11-28 06:00",
     "2026-12-04 22:00", "On shift until Sat 06:00"),
    ("Europe/London", "fri", "22:00", "06:00", "2026-11-27 12:00", False, None, "2026-11-27 22:00",
     "On shift today from 22:00"),
    ("Europe/London", "fri", "22:00", "06:00", "2026-11-28 06:00", False, None, "2026-12-04 22:00",
     "Next shift: Fri 4 Dec"),
    # Night shift across the spring change (Sat 28 Mar 22:00 GMT - Sun 06:00 BST).
    ("Europe/London", "sat", "22:00", "06:00", "2026-03-29 04:59", True, "2026-03-29 05:00",
     "2026-04-04 21:00", "On shift until 06:00"),
    ("Europe/London", "sat", "22:00", "06:00", "2026-03-29 05:00", False, None, "2026-04-04 21:00",
     "Next shift: Sat 4 Apr"),
    # New York, weekend on-call 08:00-20:00 over the autumn change.
    ("America/New_York", "sat,sun", "08:00", "20:00", "2026-11-01 12:30", False, None, "2026-11-01 13:00",
     "On shift today from 08:00"),
    ("America/New_York", "sat,sun", "08:00", "20:00", "2026-11-01 13:00", True, "2026-11-02 01:00",
     "2026-11-07 13:00", "On shift until 20:00"),
    # Kolkata: 23:00 UTC is already tomorrow 04:30 local.
    ("Asia/Kolkata", "mon-fri", "09:30", "17:30", "2026-11-26 23:00", False, None, "2026-11-27 04:00",
     "On shift today from 09:30"),
    ("Asia/Kolkata", "mon-fri", "09:30", "17:30", "2026-11-27 11:59", True, "2026-11-27 12:00",
     "2026-11-30 04:00", "On shift until 17:30"),
    # Lord Howe: Monday morning local is Sunday UTC.
    ("Australia/Lord_Howe", "mon-fri", "09:30", "17:30", "2026-11-29 22:30", True, "2026-11-30 06:30",
     "2026-11-30 22:30", "On shift until 17:30"),
    ("Australia/Lord_Howe", "mon-fri", "09:30", "17:30", "2026-11-29 22:29", False, None,
     "2026-11-29 22:30", "On shift today from 09:30"),
    # Friday 3 Apr 2026 after work: Monday 6 Apr is after the April change (+10:30).
    ("Australia/Lord_Howe", "mon-fri", "09:30", "17:30", "2026-04-03 07:00", False, None,
     "2026-04-05 23:00", "Next shift: Mon 6 Apr"),
    # No shift days at all.
    ("Europe/London", [], "09:30", "17:30", "2026-11-26 12:00", False, None, None, "No shift scheduled"),
]


@pytest.mark.parametrize("zone,days,start,end,now,on,end_at,nxt,text", CLOCK)
def test_the_clock_through_a_week(zone, days, start, end, now, on, end_at, nxt, text):
    s = ShiftSettings.from_dict({"days": days, "start": start, "end": end, "timezone": zone}, "c.toml")
    n = U(now)
    assert on_shift(s, n) is on
    assert shift_end(s, n) == (U(end_at) if end_at else None)
    assert next_shift(s, n) == (U(nxt) if nxt else None)
    assert shift_text(s, n) == text


def test_back_to_back_24h_shifts_are_one_stretch():
    s = S("Europe/London", days=("mon", "tue"), start="00:00", end="00:00")
    # Mon 30 Nov 00:00 - Wed 2 Dec 00:00 (GMT = UTC).
    assert shift_end(s, U("2026-11-30 10:00")) == U("2026-12-02 00:00")
    assert shift_text(s, U("2026-11-30 10:00")) == "On shift until Wed 2 Dec 00:00"
    assert on_shift(s, U("2026-12-01 23:59"))
    assert not on_shift(s, U("2026-12-02 00:00"))


# --- property: the shift follows the local wall clock in every zone ------------------------------

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@hsettings(max_examples=400, deadline=None)
@given(zone=st.sampled_from(ZONES),
       now=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
       days=st.sets(st.sampled_from(ALL_WEEK)),
       hours=st.sampled_from([("09:30", "17:30"), ("08:00", "20:00"), ("22:00", "06:00"), ("05:00", "09:30")]))
def test_on_shift_agrees_with_the_local_wall_clock(zone, now, days, hours):
    """An oracle that only reads the local clock: day-of-week and time of day. (None of the hours
    used fall in a DST gap, where the wall clock alone cannot decide.)"""
    start, end = hours
    s = S(zone, days=sorted(days, key=ALL_WEEK.index), start=start, end=end)
    n = now.replace(tzinfo=timezone.utc)
    local = n.astimezone(ZoneInfo(zone))
    t, today = local.time(), ALL_WEEK[local.weekday()]
    yesterday = ALL_WEEK[(local.weekday() - 1) % 7]
    st_, en = time.fromisoformat(start), time.fromisoformat(end)
    if st_ < en:
        expected = today in days and st_ <= t < en
    else:
        expected = (today in days and t >= st_) or (yesterday in days and t < en)
    assert on_shift(s, n) is expected
    # And the next shift, when there is one, starts at the configured local time on a shift day.
    nxt = next_shift(s, n)
    if days:
        assert nxt is not None and nxt > n
        nl = nxt.astimezone(ZoneInfo(zone))
        assert nl.strftime("%H:%M") == start and ALL_WEEK[nl.weekday()] in days
    else:
        assert nxt is None


# --- with a rota ------------------------------------------------------------------------------------

ROTA_CSV = """date,name
2026-12-01,Alice
2026-12-02,Bob
2026-12-03,alice
2026-03-29,Alice
"""


def test_rota_days_replace_the_weekly_days():
    s = S("Europe/London", days=("mon",), rota="rota.csv", me="Alice")
    rota = load_rota_text(ROTA_CSV, "rota.csv", tz=s.zone())
    # Tue 1 Dec is Alice's (not a Monday): the configured hours apply.
    assert on_shift(s, U("2026-12-01 10:00"), rota)
    assert shift_end(s, U("2026-12-01 10:00"), rota) == U("2026-12-01 17:30")
    # Wed 2 Dec is Bob's.
    assert not on_shift(s, U("2026-12-02 10:00"), rota)
    assert shift_text(s, U("2026-12-02 10:00"), rota) == "Next shift: Thu 3 Dec"
    assert shift_text(s, U("2026-12-03 08:00"), rota) == "On shift today from 09:30"
    # Mon 30 Nov is a weekly shift day, but the rota says otherwise.
    assert not on_shift(s, U("2026-11-30 10:00"), rota)
    assert next_shift(s, U("2026-11-30 10:00"), rota) == U("2026-12-01 09:30")
    # After the rota's last entry for Alice there is nothing to show.
    assert shift_text(s, U("2026-12-04 10:00"), rota) == "No shift scheduled"
    # A rota day on London's spring change day: 09:30 BST.
    assert next_shift(s, U("2026-03-28 12:00"), rota) == U("2026-03-29 08:30")
    # Without the rota loaded (None), the weekly days apply.
    assert on_shift(s, U("2026-11-30 10:00"), None)


def test_rota_with_its_own_hours_and_ical_weeks():
    s = S("America/New_York", rota="x.ics", me="Carol")
    ics = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0",
        "BEGIN:VEVENT", "DTSTART;TZID=America/New_York:20261107T220000",
        "DTEND;TZID=America/New_York:20261108T060000", "SUMMARY:Carol", "END:VEVENT",
        # A whole on-call week as DATE values: the configured 09:30-17:30 each day.
        "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20261109", "DTEND;VALUE=DATE:20261116", "SUMMARY:Carol",
        "END:VEVENT", "END:VCALENDAR", ""])
    rota = load_rota_text(ics, "x.ics", tz=s.zone())
    # Sat 7 Nov 22:00 EST = 03:00 UTC Sun.
    assert on_shift(s, U("2026-11-08 03:00"), rota)
    assert shift_text(s, U("2026-11-08 03:00"), rota) == "On shift until Sun 06:00"
    assert shift_text(s, U("2026-11-08 06:00"), rota) == "On shift until 06:00"
    assert shift_end(s, U("2026-11-08 03:00"), rota) == U("2026-11-08 11:00")
    assert shift_text(s, U("2026-11-08 12:00"), rota) == "Next shift: Mon 9 Nov"
    assert shift_text(s, U("2026-11-07 12:00"), rota) == "On shift today from 22:00"
    assert on_shift(s, U("2026-11-15 15:00"), rota)        # Sunday inside the week
    assert not on_shift(s, U("2026-11-16 15:00"), rota)    # DTEND is exclusive


# --- config ----------------------------------------------------------------------------------------

def test_defaults():
    s = ShiftSettings.from_dict({}, "c.toml")
    assert s.days == ("mon", "tue", "wed", "thu", "fri")
    assert (s.start, s.end, s.timezone, s.rota, s.me) == ("09:30", "17:30", None, None, None)
    assert ShiftSettings.from_dict(None, "c.toml") == s


@pytest.mark.parametrize("days,expected", [
    (["mon", "wed"], ("mon", "wed")),
    (["Sunday", "MON"], ("mon", "sun")),
    ("mon-fri", ("mon", "tue", "wed", "thu", "fri")),
    (["fri-mon"], ("mon", "fri", "sat", "sun")),
    (["sat,sun", "sat"], ("sat", "sun")),
    ([], ()),
])
def test_days_forms(days, expected):
    assert ShiftSettings.from_dict({"days": days}, "c.toml").days == expected


@pytest.mark.parametrize("table,key,fragment", [
    ({"days": ["mon", "funday"]}, "shift.days", "unknown day 'funday'"),
    ({"days": 5}, "shift.days", "list of day names"),
    ({"start": "9.30"}, "shift.start", "24-hour time"),
    ({"end": "24:00"}, "shift.end", 'use "00:00" for midnight'),
    ({"start": 930}, "shift.start", "time of day"),
    ({"timezone": "Europe/Londn"}, "shift.timezone", "unknown time zone 'Europe/Londn'"),
    ({"timezone": "../../etc/passwd"}, "shift.timezone", "unknown time zone"),
    ({"timezone": ""}, "shift.timezone", "non-empty"),
    ({"rota": "rota.csv"}, "shift.me", "required when shift.rota is set"),
    ({"hours": 8}, "shift.hours", "unknown key"),
])
def test_config_errors_name_file_key_and_reason(table, key, fragment):
    with pytest.raises(ConfigError) as e:
        ShiftSettings.from_dict(table, "/home/u/.config/secondline/config.toml")
    assert e.value.path == "/home/u/.config/secondline/config.toml"
    assert e.value.key == key
    assert fragment in e.value.reason
    assert str(e.value).startswith(f"/home/u/.config/secondline/config.toml: {key}: ")


def test_system_zone_is_used_when_none_is_configured(monkeypatch):
    system_zone.cache_clear()
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    try:
        s = ShiftSettings()
        assert s.zone() == ZoneInfo("Asia/Kolkata")
        assert s.zone().utcoffset(datetime(2026, 7, 1)) == timedelta(hours=5, minutes=30)
        assert shift_end(s, U("2026-11-26 05:00")) == U("2026-11-26 12:00")
    finally:
        system_zone.cache_clear()


def test_local_to_utc_gap_and_overlap():
    london = ZoneInfo("Europe/London")
    assert local_to_utc(date(2026, 3, 29), time(1, 30), london) == U("2026-03-29 01:30")
    assert local_to_utc(date(2026, 10, 25), time(1, 30), london) == U("2026-10-25 00:30")


def test_local_zone_fallback_follows_the_c_library_dst(monkeypatch):
    """Where no IANA name can be found (Windows without tzdata), the C library's local time is
    used; it must still know DST."""
    import time as _time

    from tray.shift.hours import _LocalZone
    monkeypatch.setenv("TZ", "Europe/London")
    _time.tzset()
    try:
        z = _LocalZone()
        assert z.utcoffset(datetime(2026, 7, 1, 12)) == timedelta(hours=1)
        assert z.utcoffset(datetime(2026, 12, 1, 12)) == timedelta(0)
        assert local_to_utc(date(2026, 7, 1), time(9, 30), z) == U("2026-07-01 08:30")
        assert U("2026-07-01 08:30").astimezone(z).strftime("%H:%M") == "09:30"
        s = ShiftSettings()
        monkeypatch.setattr("tray.shift.hours.system_zone", lambda: z)
        assert shift_end(s, U("2026-07-01 10:00")) == U("2026-07-01 16:30")
    finally:
        monkeypatch.undo()
        _time.tzset()
