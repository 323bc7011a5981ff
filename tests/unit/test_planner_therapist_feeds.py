"""Feeds with a roster (no I/O): a course's feed shows each session where the planner placed
it, as its schedule events do, and a therapist's feed is the very events of the courses'
feeds for the sessions booked with the therapist, in the bookings' order."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.planner.feeds.course import course_sessions
from services.planner.feeds.feed import feed_calendar
from services.planner.feeds.therapist import BookedSession, therapist_sessions
from services.planner.state import PatientState
from tests.calendars import read_calendar
from tests.clinic_events import ClinicFeed
from tests.unit.test_planner_staffing import course_events, north, prescribed

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 3, 2, 7, tzinfo=UTC)


def test_with_a_roster_a_course_feed_shows_each_session_at_its_placed_start() -> None:
    feed = ClinicFeed()
    _, _, result = prescribed(north("T1"), feed)
    (scheduled,) = course_events(result)
    events = course_sessions(result.state, feed.patient, "C1", BERLIN)
    assert [(e.session_id, e.on, e.starts_at) for e in events] == [
        (s.session_id, s.on, s.starts_at) for s in scheduled.sessions
    ]
    assert all(e.starts_at is not None for e in events)
    assert {e.sequence for e in events} == {scheduled.version}
    read = read_calendar(feed_calendar(events, name="C1", timezone="Europe/Berlin", stamp=STAMP))
    starts = sorted(e.start for e in read.events.values() if isinstance(e.start, datetime))
    assert starts == [s.starts_at for s in scheduled.sessions]


def test_a_therapists_feed_is_the_course_feeds_events_of_its_bookings_in_their_order() -> None:
    feed = ClinicFeed()
    _, _, result = prescribed(north("T1"), feed)
    course = course_sessions(result.state, feed.patient, "C1", BERLIN)
    second, first = course[3], course[1]
    booked = [
        BookedSession(feed.patient, "C1", second.session_id),
        BookedSession(feed.patient, "C1", first.session_id),
        BookedSession(feed.patient, "C1", "no-such-session"),  # left out, never made up
        BookedSession("P-unknown", "C1", first.session_id),
    ]
    events = therapist_sessions(booked, {feed.patient: result.state}, BERLIN)
    assert events == [second, first]
    assert {e.uid for e in events} <= {e.uid for e in course}


def test_a_therapist_without_bookings_has_an_empty_feed() -> None:
    assert therapist_sessions([], {"P-1": PatientState()}, BERLIN) == []
    data = feed_calendar([], name="T1", timezone="Europe/Berlin", stamp=STAMP)
    assert read_calendar(data).events == {}
