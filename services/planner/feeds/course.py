"""A course's feed: its planned sessions as they stand in the planner's state.

The planner keeps no day for a session it no longer plans, so none is made up. With a
roster, a session shows where `services.planner.staffing` placed it, its therapist's day
and start, as the course's schedule events show it; a session waiting after a shortage
shows on the day the core gave it, without a time, as there.
"""

from zoneinfo import ZoneInfo

from services.planner.feeds.feed import session_event
from services.planner.staffing import shown_session
from services.planner.state import PatientState
from services.runtime.session_calendar import SessionEvent


def course_sessions(
    state: PatientState, patient_id: str, course_id: str, zone: ZoneInfo
) -> list[SessionEvent]:
    published = state.published_course(course_id)
    if published is None:
        return []
    placed = {p.session_id: p for p in state.placements if p.course_id == course_id}
    waiting = state.waiting_on(course_id)
    return [
        session_event(
            patient_id, published,
            shown_session(session, placed.get(session.session_id), waiting, zone),
        )
        for session in published.sessions
    ]  # fmt: skip
