"""A therapist's feed: the sessions the clinic's bookings give the therapist.

Each is the very event of its course's feed (same UID, SEQUENCE, times, text), so a
calendar subscribed to both, or also receiving the mail, holds one event per session. The
bookings and the patients' states are written in the same transaction, so every booking
has its session in its patient's state; one without (none is expected) is left out rather
than shown with made-up details.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.planner.feeds.course import course_sessions
from services.planner.state import PatientState
from services.runtime.session_calendar import SessionEvent


@dataclass(frozen=True, slots=True)
class BookedSession:
    patient_id: str
    course_id: str
    session_id: str


def therapist_sessions(
    booked: Sequence[BookedSession], states: Mapping[str, PatientState], zone: ZoneInfo
) -> list[SessionEvent]:
    """The booked sessions' events, in the bookings' order."""
    courses = sorted({(b.patient_id, b.course_id) for b in booked})
    events = {
        (patient_id, course_id, event.session_id): event
        for patient_id, course_id in courses
        for event in course_sessions(
            states.get(patient_id, PatientState()), patient_id, course_id, zone
        )
    }
    keys = [(b.patient_id, b.course_id, b.session_id) for b in booked]
    return [events[key] for key in keys if key in events]
