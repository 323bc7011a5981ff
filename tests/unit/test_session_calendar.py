"""Sessions as iCalendar events: stable opaque UIDs, local wall-clock times across DST,
sessions without a fixed time as events of their day; read back by two parsers."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.runtime.session_calendar import SessionEvent, session_calendar, session_uid
from tests.calendars import read_calendar

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)
STAMP = datetime(2026, 3, 1, 12, tzinfo=UTC)


def session(number: int, on: date, at: time | None = time(9), **changes: object) -> SessionEvent:
    values: dict[str, object] = {
        "patient_id": "P-1", "course_id": "C1", "session_id": f"C1-s{number:02d}",
        "sequence": 1, "status": "CONFIRMED", "number": number, "on": on,
        "starts_at": None if at is None else datetime.combine(on, at, BERLIN),
        "duration_min": 12,
    }  # fmt: skip
    return SessionEvent(**{**values, **changes})  # type: ignore[arg-type]


def ics(*events: SessionEvent, **options: str) -> bytes:
    data: bytes = session_calendar(events, timezone=ZONE, stamp=STAMP, **options).to_ical()
    return data


def test_dst_changes_in_march_and_october_do_not_move_the_local_time() -> None:
    # Europe/Berlin: summer time from Sunday 29 March 2026, winter time from 25 October.
    days = [date(2026, 3, 27), date(2026, 3, 30), date(2026, 10, 23), date(2026, 10, 26)]
    sessions = [session(n, day) for n, day in enumerate(days, start=1)]
    read = read_calendar(ics(*sessions))
    starts = [read.events[s.uid].start for s in sessions]
    assert [read.events[s.uid].wall_clock for s in sessions] == ["09:00"] * 4
    assert [s.utcoffset() for s in starts if isinstance(s, datetime)] == [
        timedelta(hours=h) for h in (1, 2, 2, 1)
    ]
    assert starts == [s.starts_at for s in sessions]  # the same instants
    assert b"DTSTART;TZID=Europe/Berlin:20260330T090000" in ics(*sessions)
    assert b"BEGIN:VTIMEZONE" in ics(*sessions)


def test_the_end_is_counted_in_elapsed_minutes() -> None:
    read = read_calendar(ics(session(1, date(2026, 3, 30), time(10, 18))))
    (event,) = read.events.values()
    assert isinstance(event.start, datetime)
    assert isinstance(event.end, datetime)
    assert event.end - event.start == timedelta(minutes=12)
    assert event.start.strftime("%H:%M") == "10:18"


def test_a_session_without_a_fixed_time_is_an_event_of_its_day_with_its_duration() -> None:
    untimed = session(3, date(2026, 3, 29), at=None, duration_min=9)
    read = read_calendar(ics(untimed))
    event = read.events[untimed.uid]
    assert (event.start, event.end) == (date(2026, 3, 29), date(2026, 3, 30))
    assert "no fixed time: 9 min on this day" in event.description
    assert b"TRANSP:TRANSPARENT" in ics(untimed)


def test_the_uid_is_stable_per_session_and_opaque() -> None:
    first = session_uid("P-1", "C1", "C1-s01")
    assert first == session_uid("P-1", "C1", "C1-s01")
    others = {session_uid("P-1", "C1", "C1-s02"), session_uid("P-2", "C1", "C1-s01"),
              session_uid("P-1", "C2", "C1-s01")}  # fmt: skip
    assert first not in others
    assert len(others) == 3
    assert "P-1" not in first
    assert "C1" not in first


def test_the_summary_names_the_opaque_patient_id_and_the_session_number() -> None:
    read = read_calendar(ics(session(4, date(2026, 3, 30))))
    (event,) = read.events.values()
    assert event.summary == "Massage: patient P-1, session 4"
    assert event.sequence == 1
    assert event.status == "CONFIRMED"


def test_an_itip_message_names_its_method_organizer_and_attendee() -> None:
    cancelled = session(2, date(2026, 4, 1), status="CANCELLED", sequence=5)
    data = ics(
        cancelled, method="CANCEL", organizer="cf@north.example", attendee="dr@north.example"
    )
    read = read_calendar(data)
    assert read.method == "CANCEL"
    assert (read.events[cancelled.uid].status, read.events[cancelled.uid].sequence) == (
        "CANCELLED", 5,
    )  # fmt: skip
    (vevent,) = read.raw.walk("VEVENT")
    assert str(vevent["organizer"]) == "mailto:cf@north.example"
    assert str(vevent["attendee"]) == "mailto:dr@north.example"


def test_a_cancellation_may_name_the_uid_alone() -> None:
    unknown_day = replace(session(2, date(2026, 4, 1), at=None), status="CANCELLED", on=None)
    read = read_calendar(ics(unknown_day, method="CANCEL"))
    assert read.events[unknown_day.uid].start is None
    assert b"BEGIN:VTIMEZONE" not in ics(unknown_day, method="CANCEL")
