"""A course's feed: its planned sessions as they stand in the planner's state.

The feed is a snapshot, as subscribed calendars expect: a session moved shows on its new
day under the same UID with a higher SEQUENCE, and a session no longer planned (done,
suspended, cancelled) leaves the feed, so the subscriber's calendar drops it at its next
refresh. The planner keeps no day for a session it no longer plans, so none is made up.
"""

from datetime import datetime, timedelta

from services.planner.outputs import CourseStatus, PlannedSession
from services.planner.state import PatientState, PublishedCourse
from services.runtime.session_calendar import SessionEvent, Status, session_calendar

REFRESH = timedelta(hours=1)


def course_sessions(state: PatientState, patient_id: str, course_id: str) -> list[SessionEvent]:
    published = state.published_course(course_id)
    return [] if published is None else _sessions(published, patient_id)


def feed_calendar(
    sessions: list[SessionEvent], *, name: str, timezone: str, stamp: datetime
) -> bytes:
    """A subscribable calendar of `sessions`, whoever they belong to (a course now, a
    therapist's day once rosters exist): no METHOD, as RFC 5545 has it for a published
    calendar, a name and a refresh interval (RFC 7986 with the common X- spellings)."""
    calendar = session_calendar(sessions, timezone=timezone, stamp=stamp)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    data: bytes = calendar.to_ical()
    return data


def _sessions(course: PublishedCourse, patient_id: str) -> list[SessionEvent]:
    status: Status = "TENTATIVE" if course.status is CourseStatus.PENDING else "CONFIRMED"
    return [_event(course, patient_id, status, session) for session in course.sessions]


def _event(
    course: PublishedCourse, patient_id: str, status: Status, session: PlannedSession
) -> SessionEvent:
    return SessionEvent(
        patient_id, course.course_id, session.session_id, course.version, status,
        session.number, session.on, session.starts_at, session.duration_min, session.notes,
    )  # fmt: skip
