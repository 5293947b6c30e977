"""Rota parsing: CSV and iCalendar samples, and the errors a user sees for bad files."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

from tray.shift.rota import RotaEntry, entries_for, load_rota_text

LONDON = ZoneInfo("Europe/London")


def U(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def ics(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *lines, "END:VCALENDAR", ""])


# --- CSV -------------------------------------------------------------------------------------------

def test_csv_whole_days_in_the_shift_zone():
    rota = load_rota_text("date,name\n2026-12-01,Alice\n2026-07-01,Bob\n", "rota.csv", tz=LONDON)
    assert rota == [
        RotaEntry("Bob", U("2026-06-30 23:00"), U("2026-07-01 23:00"), all_day=True),   # BST midnight
        RotaEntry("Alice", U("2026-12-01 00:00"), U("2026-12-02 00:00"), all_day=True),
    ]
    assert [d.isoformat() for d in rota[0].days(LONDON)] == ["2026-07-01"]


def test_csv_with_times_overnight_iso_and_blank_times():
    text = ("# the on-call rota\n"
            "Date, Name ,Start,End,Notes\n"
            "2026-12-01,Alice,09:00,17:00,\n"
            "2026-12-01,Bob,22:00,06:00,night\n"
            "2026-12-02,Carol,,,whole day\n"
            "\n"
            "2026-12-03,Dan,2026-12-03T08:00:00Z,2026-12-03T20:00:00+01:00,\n")
    rota = load_rota_text(text, "x.csv", tz=LONDON)
    assert rota == [
        RotaEntry("Alice", U("2026-12-01 09:00"), U("2026-12-01 17:00")),
        RotaEntry("Bob", U("2026-12-01 22:00"), U("2026-12-02 06:00")),
        RotaEntry("Carol", U("2026-12-02 00:00"), U("2026-12-03 00:00"), all_day=True),
        RotaEntry("Dan", U("2026-12-03 08:00"), U("2026-12-03 19:00")),
    ]


def test_csv_semicolons_and_byte_order_mark_from_excel():
    rota = load_rota_text("\ufeffdate;name\r\n2026-12-01;Zoë Müller\r\n", None, tz=timezone.utc)
    assert rota == [RotaEntry("Zoë Müller", U("2026-12-01 00:00"), U("2026-12-02 00:00"), True)]


def test_csv_times_on_a_dst_day_use_the_local_clock():
    rota = load_rota_text("date,name,start,end\n2026-03-29,A,09:30,17:30\n", "csv", tz=LONDON)
    assert (rota[0].start, rota[0].end) == (U("2026-03-29 08:30"), U("2026-03-29 16:30"))


@pytest.mark.parametrize("text,fragment", [
    ("", "line 1: empty rota"),
    ("who,when\nAlice,2026-12-01\n", "line 1: header has no 'date' column"),
    ("date,person\n2026-12-01,Alice\n", "line 1: header has no 'name' column"),
    ("date,name\n2026-12-01,Alice\n01/12/2026,Bob\n", "line 3: date '01/12/2026' is not an ISO date"),
    ("date,name\n\n2026-12-01,\n", "line 3: empty name"),
    ("date,name,start\n2026-12-01,A,09:00\n", "line 1: header needs both 'start' and 'end'"),
    ("date,name,start,end\n2026-12-01,A,09:00,\n", "line 2: give both start and end"),
    ("date,name,start,end\n2026-12-01,A,9am,17:00\n", "line 2: start '9am' is neither HH:MM"),
    ("date,name,start,end\n2026-12-01,A,25:00,17:00\n", "line 2: start '25:00' is not a time of day"),
    ("date,name,start,end\n2026-12-01,A,2026-12-01T10:00,2026-12-01T09:00\n", "line 2: end"),
])
def test_csv_errors_give_line_and_reason(text, fragment):
    with pytest.raises(ValueError) as e:
        load_rota_text(text, "rota.csv", tz=LONDON)
    assert fragment in str(e.value)


# --- iCalendar -------------------------------------------------------------------------------------

def test_ical_date_time_forms():
    text = ics(
        "BEGIN:VEVENT", "UID:1", "DTSTART:20261201T090000Z", "DTEND:20261201T170000Z", "SUMMARY:Alice",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:2", "DTSTART;TZID=America/New_York:20261202T090000",
        "DTEND;TZID=America/New_York:20261202T170000", "SUMMARY:Bob", "END:VEVENT",
        # Floating: the rota's zone (London, summer time here).
        "BEGIN:VEVENT", "UID:3", "DTSTART:20260701T090000", "DURATION:PT8H30M", "SUMMARY:Carol",
        "END:VEVENT",
        # A week of whole days.
        "BEGIN:VEVENT", "UID:4", "DTSTART;VALUE=DATE:20261207", "DTEND;VALUE=DATE:20261214",
        "SUMMARY:Dan", "END:VEVENT",
        # A single day without DTEND; a DATE without VALUE=DATE.
        "BEGIN:VEVENT", "UID:5", "DTSTART:20261215", "SUMMARY:Erin", "END:VEVENT",
        # Outlook's Windows zone name, and a Mozilla-prefixed id, both meaning London.
        "BEGIN:VEVENT", "UID:6", 'DTSTART;TZID="GMT Standard Time":20260701T090000',
        'DTEND;TZID="GMT Standard Time":20260701T100000', "SUMMARY:Fay", "END:VEVENT",
        "BEGIN:VEVENT", "UID:7", "DTSTART;TZID=/mozilla.org/20050126_1/Europe/London:20260702T090000",
        "DTEND;TZID=/mozilla.org/20050126_1/Europe/London:20260702T100000", "SUMMARY:Gus", "END:VEVENT",
        # All-day week as DURATION.
        "BEGIN:VEVENT", "UID:8", "DTSTART;VALUE=DATE:20260323", "DURATION:P7D", "SUMMARY:Hal", "END:VEVENT",
    )
    rota = {e.name: e for e in load_rota_text(text, "text/calendar; charset=utf-8", tz=LONDON)}
    assert (rota["Alice"].start, rota["Alice"].end, rota["Alice"].all_day) == (U("2026-12-01 09:00"), U("2026-12-01 17:00"), False)
    assert (rota["Bob"].start, rota["Bob"].end) == (U("2026-12-02 14:00"), U("2026-12-02 22:00"))
    assert (rota["Carol"].start, rota["Carol"].end) == (U("2026-07-01 08:00"), U("2026-07-01 16:30"))
    assert (rota["Dan"].start, rota["Dan"].end, rota["Dan"].all_day) == (U("2026-12-07 00:00"), U("2026-12-14 00:00"), True)
    assert len(rota["Dan"].days(LONDON)) == 7
    assert (rota["Erin"].start, rota["Erin"].end, rota["Erin"].all_day) == (U("2026-12-15 00:00"), U("2026-12-16 00:00"), True)
    assert (rota["Fay"].start, rota["Fay"].end) == (U("2026-07-01 08:00"), U("2026-07-01 09:00"))
    assert rota["Gus"].start == U("2026-07-02 08:00")
    # 23 Mar - 30 Mar crosses the spring change: seven calendar days, ends at BST midnight.
    assert rota["Hal"].end == U("2026-03-29 23:00") and len(rota["Hal"].days(LONDON)) == 7


def test_ical_folding_escapes_alarms_and_cancelled_events():
    text = ics(
        "BEGIN:VEVENT",
        "DTSTART:20261201T090000Z",
        "DTEND:20261201T170000Z",
        # RFC 5545 folding: a CRLF followed by one space or tab continues the line.
        "SUMMARY:Alice Smi",
        " th\\, 2nd l",
        "\tine",
        "DESCRIPTION:note: with a colon",
        "BEGIN:VALARM", "TRIGGER:-PT15M", "SUMMARY:Reminder", "ACTION:DISPLAY", "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT", "STATUS:CANCELLED", "DTSTART:20261202T090000Z", "DTEND:20261202T170000Z",
        "SUMMARY:Alice Smith\\, 2nd line", "END:VEVENT",
    )
    rota = load_rota_text(text, "rota.ics")
    assert rota == [RotaEntry("Alice Smith, 2nd line", U("2026-12-01 09:00"), U("2026-12-01 17:00"))]


def test_ical_is_recognised_without_a_hint_and_lf_only_files_work():
    text = ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "DTEND:20261201T100000Z", "SUMMARY:A",
               "END:VEVENT").replace("\r\n", "\n")
    assert load_rota_text(text, "https://example.org/rota?format=x") == [
        RotaEntry("A", U("2026-12-01 09:00"), U("2026-12-01 10:00"))]


@pytest.mark.parametrize("text,message", [
    # Structure: checked line by line (icalendar would drop an unclosed component silently).
    ("BEGIN:VEVENT\r\nEND:VEVENT\r\n", "line 1: iCalendar must start with BEGIN:VCALENDAR"),
    (ics("BEGIN:VEVENT", "this line has no colon", "END:VEVENT"),
     "line 5: not an iCalendar content line (no ':'): 'this line has no colon'"),
    ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T090000Z\r\nSUMMARY:A\r\n",
     "line 2: BEGIN:VEVENT is never closed (truncated file?)"),
    (ics("END:VEVENT"), "line 4: END:VEVENT without matching BEGIN"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "SUMMARY:A", "END:VTODO"),
     "line 7: END:VTODO without matching BEGIN"),
    (ics("BEGIN:VEVENT", "BEGIN:VALARM", "TRIGGER:-PT15M", "END:VEVENT"),
     "line 7: END:VEVENT where END:VALARM was expected (BEGIN on line 5)"),
    ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\n",
     "line 3: BEGIN:VEVENT outside BEGIN:VCALENDAR .. END:VCALENDAR"),
    # A line icalendar cannot split into name, parameters and value.
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "SUMMARY;LANGUAGE:A", "END:VEVENT"),
     "line 4: VEVENT: bad content line (Content line could not be parsed into parts: 'SUMMARY;LANGUAGE:A'"),
    # Events: the line of their BEGIN:VEVENT, their SUMMARY and UID when they have them.
    (ics("BEGIN:VEVENT", "UID:x1", "SUMMARY:A", "END:VEVENT"), 'line 4: event "A" (UID x1): VEVENT without DTSTART'),
    (ics("BEGIN:VEVENT", "SUMMARY:A", "END:VEVENT"), 'line 4: event "A": VEVENT without DTSTART'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "END:VEVENT"),
     "line 4: VEVENT without a SUMMARY (the person's name)"),
    (ics("BEGIN:VEVENT", "UID:x2", "DTSTART:20261201T090000Z", "SUMMARY:   ", "END:VEVENT"),
     "line 4: event (UID x2): VEVENT without a SUMMARY (the person's name)"),
    (ics("BEGIN:VEVENT", "DTSTART:2026-12-01", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": DTSTART \'2026-12-01\' is not an iCalendar date or date-time'),
    (ics("BEGIN:VEVENT", "DTSTART;TZID=Mars/Olympus:20261201T090000", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": unknown time zone TZID=\'Mars/Olympus\' (neither a known zone nor a VTIMEZONE in the file)'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=DAILY;COUNT=3",
         "EXDATE;TZID=Mars/Olympus:20261202T090000", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": unknown time zone TZID=\'Mars/Olympus\''),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "DTEND:20261201T080000Z", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": event ends before it starts'),
    (ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20261201", "DTEND;VALUE=DATE:20261201", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": event ends before it starts'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "DURATION:-PT1H", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": event ends before it starts'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "DURATION:8 hours", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": DURATION \'8 hours\' is not an iCalendar duration'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=DAILY;COUNT=x", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": RRULE \'FREQ=DAILY;COUNT=x\' is not valid: Expected int, got: x'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=FORTNIGHTLY", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": RRULE \'FREQ=FORTNIGHTLY\' is not valid: Expected frequency, got: FORTNIGHTLY'),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:COUNT=3", "SUMMARY:A", "END:VEVENT"),
     'line 4: event "A": RRULE \'COUNT=3\' has no FREQ'),
    # The second event of the file is named by its own line.
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "SUMMARY:A", "END:VEVENT",
         "BEGIN:VEVENT", "UID:b@x", "DTSTART:20261201T090000Z", "DTEND:20261201T080000Z", "SUMMARY:Bob",
         "END:VEVENT"),
     'line 8: event "Bob" (UID b@x): event ends before it starts'),
    (ics("X-WR-TIMEZONE:Mars/Olympus", "BEGIN:VEVENT", "DTSTART:20261201T090000Z", "SUMMARY:A", "END:VEVENT"),
     "unknown time zone X-WR-TIMEZONE='Mars/Olympus'"),
])
def test_ical_errors_give_line_and_reason(text, message):
    with pytest.raises(ValueError) as e:
        load_rota_text(text, "rota.ics", tz=LONDON)
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def test_a_runaway_rule_is_refused_quickly():
    text = ics("BEGIN:VEVENT", "UID:r", "DTSTART:20261201T090000Z", "DURATION:PT1M", "RRULE:FREQ=MINUTELY",
               "SUMMARY:A", "END:VEVENT")
    started = time.monotonic()
    with pytest.raises(ValueError) as e:
        load_rota_text(text, "ics", now=U("2026-12-01 00:00"))
    assert str(e.value) == ('line 4: event "A" (UID r): RRULE \'FREQ=MINUTELY\' makes more than 10000 shifts '
                            "before 2028-01-05; export the rota as single events")
    assert time.monotonic() - started < 5


def test_entries_for_matches_names_loosely_and_sorts():
    rota = [RotaEntry("Bob", U("2026-12-02 00:00"), U("2026-12-03 00:00")),
            RotaEntry("alice  smith", U("2026-12-03 00:00"), U("2026-12-04 00:00")),
            RotaEntry("Alice Smith", U("2026-12-01 00:00"), U("2026-12-02 00:00"))]
    assert [e.start.day for e in entries_for(rota, " ALICE smith ")] == [1, 3]
    assert entries_for(rota, "Alice") == []


# --- repeating events ------------------------------------------------------------------------------

def spans(rota):
    return [(e.name, e.start, e.end) for e in rota]


def test_rrule_three_weekly_rotation_keeps_the_wall_clock_across_dst():
    text = ics("BEGIN:VEVENT", "UID:rot", "DTSTART;TZID=Europe/London:20260302T090000",
               "DTEND;TZID=Europe/London:20260309T090000", "RRULE:FREQ=WEEKLY;INTERVAL=3;COUNT=4",
               "SUMMARY:Alice", "END:VEVENT")
    assert spans(load_rota_text(text, "ics", tz=LONDON)) == [
        ("Alice", U("2026-03-02 09:00"), U("2026-03-09 09:00")),
        ("Alice", U("2026-03-23 09:00"), U("2026-03-30 08:00")),    # hands over at 09:00 BST
        ("Alice", U("2026-04-13 08:00"), U("2026-04-20 08:00")),
        ("Alice", U("2026-05-04 08:00"), U("2026-05-11 08:00")),
    ]


def test_rrule_nightly_until_over_the_spring_change():
    text = ics("BEGIN:VEVENT", "DTSTART;TZID=Europe/London:20260327T220000",
               "DTEND;TZID=Europe/London:20260328T060000", "RRULE:FREQ=DAILY;UNTIL=20260329T230000Z",
               "SUMMARY:Night", "END:VEVENT")
    assert spans(load_rota_text(text, "ics", tz=LONDON)) == [
        ("Night", U("2026-03-27 22:00"), U("2026-03-28 06:00")),
        ("Night", U("2026-03-28 22:00"), U("2026-03-29 05:00")),
        ("Night", U("2026-03-29 21:00"), U("2026-03-30 05:00")),
    ]


def test_rrule_byday_interval_all_day_and_weekdays_only():
    text = ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20261130", "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;COUNT=5",
               "SUMMARY:A", "END:VEVENT",
               "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20261127", "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=6",
               "SUMMARY:B", "END:VEVENT")
    rota = load_rota_text(text, "ics", tz=timezone.utc)
    days = lambda who: [e.start.date().isoformat() for e in rota if e.name == who]  # noqa: E731
    assert days("A") == ["2026-11-30", "2026-12-02", "2026-12-04", "2026-12-14", "2026-12-16"]
    assert days("B") == ["2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    assert all(e.all_day and e.end - e.start == timedelta(days=1) for e in rota)


def test_rrule_exdate_moved_and_cancelled_instances():
    text = ics(
        "BEGIN:VEVENT", "UID:w1", "DTSTART:20261130T090000Z", "DTEND:20261130T170000Z",
        "RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE:20261207T090000Z", "EXDATE:20261228T090000Z,20990101T000000Z",
        "SUMMARY:Alice", "END:VEVENT",
        # Moved from Monday 14th to Tuesday 15th.
        "BEGIN:VEVENT", "UID:w1", "RECURRENCE-ID:20261214T090000Z", "DTSTART:20261215T090000Z",
        "DTEND:20261215T170000Z", "SUMMARY:Alice", "END:VEVENT",
        # Cancelled on the 21st.
        "BEGIN:VEVENT", "UID:w1", "RECURRENCE-ID:20261221T090000Z", "STATUS:CANCELLED",
        "DTSTART:20261221T090000Z", "SUMMARY:Alice", "END:VEVENT")
    assert spans(load_rota_text(text, "ics")) == [
        ("Alice", U("2026-11-30 09:00"), U("2026-11-30 17:00")),
        ("Alice", U("2026-12-15 09:00"), U("2026-12-15 17:00")),
    ]


def test_open_ended_rule_stops_a_year_or_so_after_now():
    text = ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20200101", "RRULE:FREQ=DAILY", "SUMMARY:A", "END:VEVENT")
    now = U("2026-11-26 12:00")
    rota = load_rota_text(text, "ics", tz=timezone.utc, now=now)
    assert rota[0].start == U("2020-01-01 00:00")
    assert rota[-1].start.date() == (now + timedelta(days=400)).date()
    assert len(rota) == (rota[-1].start.date() - rota[0].start.date()).days + 1
    # Without `now`: two years from the event's start.
    assert load_rota_text(text, "ics", tz=timezone.utc)[-1].start == U("2021-12-31 00:00")


# --- rules the hand-written expander refused, and real exports -------------------------------------

def test_rrule_monthly_by_numbered_day_and_bymonth():
    text = ics(
        # The first Monday of each month, and the last Friday.
        "BEGIN:VEVENT", "UID:m1", "DTSTART;VALUE=DATE:20261207", "RRULE:FREQ=MONTHLY;BYDAY=1MO;COUNT=4",
        "SUMMARY:Alice", "END:VEVENT",
        "BEGIN:VEVENT", "UID:m2", "DTSTART;TZID=Europe/London:20261225T090000",
        "DTEND;TZID=Europe/London:20261225T170000", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270430T235959Z",
        "SUMMARY:Bob", "END:VEVENT",
        # Weekends in December only, two years running.
        "BEGIN:VEVENT", "UID:m3", "DTSTART;VALUE=DATE:20261205",
        "RRULE:FREQ=WEEKLY;BYMONTH=12;BYDAY=SA,SU;UNTIL=20271231",
        "SUMMARY:Carol", "END:VEVENT")
    rota = load_rota_text(text, "ics", tz=LONDON)
    days = lambda who: [e.start.astimezone(LONDON).date().isoformat() for e in rota if e.name == who]  # noqa: E731
    assert days("Alice") == ["2026-12-07", "2027-01-04", "2027-02-01", "2027-03-01"]
    assert all(e.all_day for e in rota if e.name == "Alice")
    assert spans(e for e in rota if e.name == "Bob") == [
        ("Bob", U("2026-12-25 09:00"), U("2026-12-25 17:00")),
        ("Bob", U("2027-01-29 09:00"), U("2027-01-29 17:00")),
        ("Bob", U("2027-02-26 09:00"), U("2027-02-26 17:00")),
        ("Bob", U("2027-03-26 09:00"), U("2027-03-26 17:00")),
        ("Bob", U("2027-04-30 08:00"), U("2027-04-30 16:00")),      # BST
    ]
    assert days("Carol") == ["2026-12-05", "2026-12-06", "2026-12-12", "2026-12-13", "2026-12-19", "2026-12-20",
                             "2026-12-26", "2026-12-27", "2027-12-04", "2027-12-05", "2027-12-11", "2027-12-12",
                             "2027-12-18", "2027-12-19", "2027-12-25", "2027-12-26"]


def test_rdate_swapped_person_and_bare_cancellation():
    text = ics(
        # Extra dates, one as a PERIOD with its own length.
        "BEGIN:VEVENT", "UID:r1", "DTSTART:20261201T090000Z", "DTEND:20261201T170000Z",
        "RDATE:20261203T090000Z,20261205T090000Z", "RDATE;VALUE=PERIOD:20261207T100000Z/PT2H",
        "SUMMARY:Alice", "END:VEVENT",
        # A weekly shift: Bob covers one week, and one week is cancelled by a bare RECURRENCE-ID.
        "BEGIN:VEVENT", "UID:w2", "DTSTART:20261202T090000Z", "DTEND:20261202T170000Z", "RRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:Carol", "END:VEVENT",
        "BEGIN:VEVENT", "UID:w2", "RECURRENCE-ID:20261209T090000Z", "DTSTART:20261209T090000Z",
        "DTEND:20261209T170000Z", "SUMMARY:Bob", "END:VEVENT",
        "BEGIN:VEVENT", "UID:w2", "RECURRENCE-ID:20261216T090000Z", "STATUS:CANCELLED", "END:VEVENT")
    assert spans(load_rota_text(text, "ics")) == [
        ("Alice", U("2026-12-01 09:00"), U("2026-12-01 17:00")),
        ("Carol", U("2026-12-02 09:00"), U("2026-12-02 17:00")),
        ("Alice", U("2026-12-03 09:00"), U("2026-12-03 17:00")),
        ("Alice", U("2026-12-05 09:00"), U("2026-12-05 17:00")),
        ("Alice", U("2026-12-07 10:00"), U("2026-12-07 12:00")),
        ("Bob", U("2026-12-09 09:00"), U("2026-12-09 17:00")),
    ]


def test_events_sharing_a_uid_are_all_kept():
    """Some rota tools stamp every event with the same UID; each is still a shift."""
    text = ics(*[line for day, who in (("01", "A"), ("02", "B"), ("03", "C"))
                 for line in ("BEGIN:VEVENT", "UID:rota@tool", f"DTSTART;VALUE=DATE:202612{day}",
                              f"SUMMARY:{who}", "END:VEVENT")])
    assert [e.name for e in load_rota_text(text, "ics")] == ["A", "B", "C"]


def test_google_calendar_export_with_vtimezone_weekly_rule_and_a_swap():
    text = "\r\n".join([
        "BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:2nd line on-call", "X-WR-TIMEZONE:Europe/London",
        "BEGIN:VTIMEZONE", "TZID:Europe/London", "X-LIC-LOCATION:Europe/London",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100", "TZNAME:BST", "DTSTART:19700329T010000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000", "TZNAME:GMT", "DTSTART:19701025T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE",
        "BEGIN:VEVENT", "DTSTART;TZID=Europe/London:20260309T090000", "DTEND;TZID=Europe/London:20260309T173000",
        "RRULE:FREQ=WEEKLY;WKST=MO;UNTIL=20260410T225959Z;BYDAY=MO,WE,FR",
        "EXDATE;TZID=Europe/London:20260403T090000", "DTSTAMP:20260301T120000Z", "UID:5q0v8n3k2l1m@google.com",
        "CREATED:20260301T115500Z", "DESCRIPTION:Handover at the stand-up\\, runbook: https://wiki.example.org/",
        " oncall", "LAST-MODIFIED:20260301T115900Z", "LOCATION:", "SEQUENCE:0", "STATUS:CONFIRMED",
        "SUMMARY:Jane Doe", "TRANSP:OPAQUE",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:This is an event reminder", "TRIGGER:-P0DT0H10M0S",
        "END:VALARM", "END:VEVENT",
        # Omar covers Wednesday 25 March.
        "BEGIN:VEVENT", "DTSTART;TZID=Europe/London:20260325T090000", "DTEND;TZID=Europe/London:20260325T173000",
        "DTSTAMP:20260301T120000Z", "UID:5q0v8n3k2l1m@google.com",
        "RECURRENCE-ID;TZID=Europe/London:20260325T090000", "SEQUENCE:1", "STATUS:CONFIRMED",
        "SUMMARY:Omar Said", "TRANSP:OPAQUE", "END:VEVENT",
        "END:VCALENDAR", ""])
    rota = load_rota_text(text, "https://calendar.google.com/calendar/ical/x/basic.ics", tz=LONDON,
                          now=U("2026-03-01 12:00"))
    jane = entries_for(rota, "jane doe")
    assert [e.start.astimezone(LONDON).strftime("%d %b %H:%M") for e in jane] == [
        "09 Mar 09:00", "11 Mar 09:00", "13 Mar 09:00", "16 Mar 09:00", "18 Mar 09:00", "20 Mar 09:00",
        "23 Mar 09:00", "27 Mar 09:00", "30 Mar 09:00", "01 Apr 09:00", "06 Apr 09:00", "08 Apr 09:00",
        "10 Apr 09:00"]                                    # not 25 Mar (Omar's), not Good Friday 3 Apr
    assert (jane[0].start, jane[0].end) == (U("2026-03-09 09:00"), U("2026-03-09 17:30"))
    assert (jane[8].start, jane[8].end) == (U("2026-03-30 08:00"), U("2026-03-30 16:30"))   # BST
    assert spans(entries_for(rota, "Omar Said")) == [("Omar Said", U("2026-03-25 09:00"), U("2026-03-25 17:30"))]


def test_outlook_export_with_windows_and_customized_zones():
    vtimezone = lambda tzid, std, dst: [  # noqa: E731
        "BEGIN:VTIMEZONE", f"TZID:{tzid}",
        "BEGIN:STANDARD", "DTSTART:16010101T020000", f"TZOFFSETFROM:{dst}", f"TZOFFSETTO:{std}",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
        "BEGIN:DAYLIGHT", "DTSTART:16010101T010000", f"TZOFFSETFROM:{std}", f"TZOFFSETTO:{dst}",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE"]
    text = "\r\n".join([
        "BEGIN:VCALENDAR", "METHOD:PUBLISH", "PRODID:Microsoft Exchange Server 2010", "VERSION:2.0",
        "X-WR-CALNAME:Ops rota",
        *vtimezone("GMT Standard Time", "+0000", "+0100"),
        # A zone Outlook made up: only its VTIMEZONE says what it is (+05:30, no summer time).
        *vtimezone("Customized Time Zone", "+0530", "+0530"),
        "BEGIN:VEVENT", "DESCRIPTION:\\n", "RRULE:FREQ=WEEKLY;COUNT=3;INTERVAL=1;BYDAY=SA;WKST=SU",
        "UID:040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5DC01000000000000000010000000",
        "SUMMARY;LANGUAGE=en-GB:Priya Natarajan",
        'DTSTART;TZID="GMT Standard Time":20260321T220000', 'DTEND;TZID="GMT Standard Time":20260322T060000',
        "CLASS:PUBLIC", "PRIORITY:5", "DTSTAMP:20260301T101500Z", "TRANSP:OPAQUE", "STATUS:CONFIRMED",
        "SEQUENCE:0", "X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "END:VEVENT",
        "BEGIN:VEVENT", "UID:040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5DC01000000000000000010000001",
        "SUMMARY;LANGUAGE=en-GB:Ravi Kumar", "DTSTART;TZID=Customized Time Zone:20260323T093000",
        "DTEND;TZID=Customized Time Zone:20260323T173000", "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "END:VEVENT",
        "END:VCALENDAR", ""])
    assert spans(load_rota_text(text, "rota.ics", tz=LONDON)) == [
        ("Priya Natarajan", U("2026-03-21 22:00"), U("2026-03-22 06:00")),
        ("Ravi Kumar", U("2026-03-23 04:00"), U("2026-03-23 12:00")),
        ("Priya Natarajan", U("2026-03-28 22:00"), U("2026-03-29 05:00")),   # into BST: 06:00 on the clock
        ("Priya Natarajan", U("2026-04-04 21:00"), U("2026-04-05 05:00")),
    ]


def test_google_x_wr_timezone_gives_utc_rules_the_calendars_wall_clock():
    text = ics("X-WR-TIMEZONE:Europe/London",
               "BEGIN:VEVENT", "UID:g", "DTSTART:20260316T090000Z", "DTEND:20260316T170000Z",
               "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:A", "END:VEVENT")
    assert [e.start for e in load_rota_text(text, "ics", tz=timezone.utc)] == [
        U("2026-03-16 09:00"), U("2026-03-23 09:00"), U("2026-03-30 08:00")]
