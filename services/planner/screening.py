"""Session outcomes and prescriptions checked against the patient's state before the core.

The core quietly ignores an outcome it cannot place, and keeps the first prescription of a
course id; the shell must instead tell operators (a dead letter) or, for a repeated report
of a done session or a prescription sent again unchanged, do nothing at all.
"""

from dataclasses import dataclass

from services.planner.commands import (
    Command,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
)
from services.planner.plan import session_id
from services.planner.state import PatientState, Prescription

UNKNOWN_COURSE = "unknown course: no clinic.course.prescribed with this course_id for the patient"
UNKNOWN_SESSION = "unknown session: the session_id is not one of the course's sessions"
ALREADY_COMPLETED = (
    "session already completed: a not_performed report after its completion was ignored"
)
OTHER_TERMS = (
    "course already prescribed with other terms: a course_id names one prescription "
    "(sessions, cadence, start_on, preferred_time); a new one needs a new course_id"
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """`rejection`: dead-letter with this reason; `repeated`: acknowledge, change nothing."""

    rejection: str | None = None
    repeated: bool = False


ACCEPT = Verdict()


def screen(state: PatientState, command: Command) -> Verdict:  # noqa: PLR0911 - one per case
    if isinstance(command, PrescribeCourse):
        return _screen_prescription(state, command)
    if not isinstance(command, SessionCompleted | SessionNotPerformed):
        return ACCEPT
    prescription = next((p for p in state.prescriptions if p.course_id == command.course_id), None)
    if prescription is None:
        return Verdict(rejection=UNKNOWN_COURSE)
    known = {session_id(command.course_id, n) for n in range(1, prescription.sessions + 1)}
    if command.session_id not in known:
        return Verdict(rejection=UNKNOWN_SESSION)
    completions = [
        a.at
        for a in state.attempts
        if a.completed and (a.course_id, a.session_id) == (command.course_id, command.session_id)
    ]
    if not completions:
        return ACCEPT
    if isinstance(command, SessionCompleted):
        return Verdict(repeated=True)
    # A pain report from before the completion is history (the session moved to the end).
    if command.occurred_at < min(completions):
        return ACCEPT
    return Verdict(rejection=ALREADY_COMPLETED)


def _screen_prescription(state: PatientState, command: PrescribeCourse) -> Verdict:
    """A course id prescribed again: unchanged it is a duplicate, changed it is refused."""
    earlier = next((p for p in state.prescriptions if p.course_id == command.course_id), None)
    if earlier is None:
        return ACCEPT
    if _terms(earlier) == _terms(command):
        return Verdict(repeated=True)
    return Verdict(rejection=OTHER_TERMS)


def _terms(prescription: Prescription | PrescribeCourse) -> tuple[object, ...]:
    p = prescription
    return (p.sessions, p.cadence, p.start_on, p.preferred_time)
