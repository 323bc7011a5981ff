"""A subscribable calendar of sessions, whoever they belong to (a course, a therapist).

The feed is a snapshot, as subscribed calendars expect: a session moved shows on its new
day under the same UID with a higher SEQUENCE, and a session no longer in the feed (done,
suspended, cancelled, given by another therapist) leaves it, so the subscriber's calendar
drops it at its next refresh.
"""

from datetime import datetime, timedelta

from services.planner.outputs import CourseStatus, PlannedSession
from services.planner.state import PublishedCourse
from services.runtime.session_calendar import SessionEvent, Status, session_calendar

REFRESH = timedelta(hours=1)


def feed_calendar(
    sessions: list[SessionEvent], *, name: str, timezone: str, stamp: datetime
) -> bytes:
    """No METHOD, as RFC 5545 has it for a published calendar, a name and a refresh
    interval (RFC 7986 with the common X- spellings)."""
    calendar = session_calendar(sessions, timezone=timezone, stamp=stamp)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    data: bytes = calendar.to_ical()
    return data


def session_event(
    patient_id: str, course: PublishedCourse, session: PlannedSession
) -> SessionEvent:
    """One session of a published course; SEQUENCE is the course's version, as in mail."""
    status: Status = "TENTATIVE" if course.status is CourseStatus.PENDING else "CONFIRMED"
    return SessionEvent(
        patient_id, course.course_id, session.session_id, course.version, status,
        session.number, session.on, session.starts_at, session.duration_min, session.notes,
    )  # fmt: skip
