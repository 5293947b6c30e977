"""Rota parsing: CSV and iCalendar samples, and the errors a user sees for bad files."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

from tray.rota import RotaEntry, entries_for, load_rota_text

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


@pytest.mark.parametrize("text,fragment", [
    ("BEGIN:VEVENT\r\nEND:VEVENT\r\n", "line 1: iCalendar must start with BEGIN:VCALENDAR"),
    (ics("BEGIN:VEVENT", "SUMMARY:A", "END:VEVENT"), "line 4: VEVENT without DTSTART"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "END:VEVENT"), "line 4: VEVENT without a SUMMARY"),
    (ics("BEGIN:VEVENT", "DTSTART:2026-12-01", "SUMMARY:A", "END:VEVENT"),
     "line 5: DTSTART '2026-12-01' is not an iCalendar date"),
    (ics("BEGIN:VEVENT", "DTSTART;TZID=Mars/Olympus:20261201T090000", "SUMMARY:A", "END:VEVENT"),
     "line 5: unknown time zone TZID='Mars/Olympus'"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "DTEND:20261201T080000Z", "SUMMARY:A", "END:VEVENT"),
     "line 4: event ends before it starts"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=MONTHLY", "SUMMARY:A", "END:VEVENT"),
     "line 6: RRULE FREQ=MONTHLY is not supported"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=WEEKLY;BYDAY=1MO", "SUMMARY:A", "END:VEVENT"),
     "line 6: RRULE BYDAY must list plain days"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=WEEKLY;BYMONTH=1", "SUMMARY:A", "END:VEVENT"),
     "line 6: RRULE BYMONTH is not supported"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "RRULE:FREQ=DAILY;COUNT=x", "SUMMARY:A", "END:VEVENT"),
     "line 6: RRULE INTERVAL and COUNT must be whole numbers"),
    (ics("BEGIN:VEVENT", "DTSTART:20261201T090000Z", "DURATION:8 hours", "SUMMARY:A", "END:VEVENT"),
     "line 6: DURATION '8 hours' is not an iCalendar duration"),
    (ics("BEGIN:VEVENT", "this line has no colon", "END:VEVENT"), "line 5: not an iCalendar content line"),
    ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261201T090000Z\r\nSUMMARY:A\r\n",
     "line 4: BEGIN:VEVENT is never closed"),
    (ics("END:VEVENT"), "line 4: END:VEVENT without matching BEGIN"),
])
def test_ical_errors_give_line_and_reason(text, fragment):
    with pytest.raises(ValueError) as e:
        load_rota_text(text, "rota.ics", tz=LONDON)
    assert fragment in str(e.value)


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
