"""Which courses a command can change, so that `decide` plans only those again.

Each answer is a superset of the courses whose plan or status the command changes, given
a settled state (see `decide`): for any other course, planning it again gives what was
published. None means every course. The courses after a touched one whose break it moves
are found while planning (`courses.replan_courses`); a completed or cancelled course only
ever changes by its own outcomes or a cancellation. The answer also bounds the review
flags looked for: a new pain streak needs a new outcome or the prescription of its course.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.planner.commands import (
    Command,
    EligibilityChanged,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
    Tick,
    UpdateProfile,
)
from services.planner.course import TERMINAL
from services.planner.courses import eligibility_view
from services.planner.notes import session_notes, session_sequence
from services.planner.outputs import CourseStatus

if TYPE_CHECKING:
    from services.planner.calendar import ClinicCalendar
    from services.planner.state import PatientState

NOTHING: frozenset[str] = frozenset()


def courses_touched(  # noqa: PLR0911 - one answer per kind of command
    before: PatientState, after: PatientState, command: Command, calendar: ClinicCalendar
) -> frozenset[str] | None:
    if before.profile is None or isinstance(command, Tick):
        return None  # the enrolment: the first plan of every course; a reminder's day
    if after is before:
        return NOTHING  # a fact already known, or older than the one kept
    match command:
        case PrescribeCourse():
            return _prescribed(before, after, command.course_id)
        case SessionCompleted() if _goes_on_as_planned(before, command, calendar):
            return NOTHING
        case SessionCompleted() | SessionNotPerformed():
            return frozenset({command.course_id})
        case UpdateProfile():
            return _profiled(before, after)
        case EligibilityChanged():
            return _decided(before, after)
        case PhysicalTherapyBooked():
            changed = set(before.physical_therapy) ^ set(after.physical_therapy)
            days = {calendar.local_date(pt.starts_at) for pt in changed}
            return frozenset(
                p.course_id for p in before.published if any(s.on in days for s in p.sessions)
            )
    return None  # a surgery, a withdrawal: rare, every course


def _decided(before: PatientState, after: PatientState) -> frozenset[str] | None:
    was, now = eligibility_view(before.eligibility), eligibility_view(after.eligibility)
    if was == now:
        return NOTHING
    if was.surgeries != now.surgeries:
        return None  # R-POSTOP's surgery, as the clinic's event of it: every course
    return _not_finished(after)


def _prescribed(before: PatientState, after: PatientState, course_id: str) -> frozenset[str] | None:
    if before.prescriptions == after.prescriptions:
        return NOTHING  # the course's first prescription stays
    if any(p.course_id == course_id for p in before.prescriptions):
        return None  # an earlier one replaces it: it may move in the order
    return frozenset({course_id})


def _profiled(before: PatientState, after: PatientState) -> frozenset[str]:
    """The profile shows only in the notes and steps of the planned sessions."""
    old, new = before.current_profile, after.current_profile
    if (session_notes(old), session_sequence(old)) == (session_notes(new), session_sequence(new)):
        return NOTHING
    return frozenset(p.course_id for p in before.published if p.sessions)


def _not_finished(state: PatientState) -> frozenset[str]:
    finished = {p.course_id for p in state.published if p.status in TERMINAL}
    return frozenset(p.course_id for p in state.prescriptions if p.course_id not in finished)


def _goes_on_as_planned(
    before: PatientState, command: SessionCompleted, calendar: ClinicCalendar
) -> bool:
    """The next open session of an active course done on its day, the latest outcome of the
    course, and not its last session: the rest of the plan stays as it is (the cadence goes
    on from the same day, the ramp from the same position, the numbers are kept), so there
    is nothing to publish and nothing moves for the courses after it.
    """
    published = before.published_course(command.course_id)
    if published is None or published.status is not CourseStatus.ACTIVE:
        return False
    attempts = [a for a in before.attempts if a.course_id == command.course_id]
    if attempts and (attempts[-1].at, attempts[-1].event_id) >= (
        command.performed_at,
        command.event_id,
    ):
        return False
    done = {a.session_id for a in attempts if a.completed}
    still_open = [s for s in published.sessions if s.session_id not in done]
    return (
        len(still_open) > 1
        and still_open[0].session_id == command.session_id
        and still_open[0].on == calendar.local_date(command.performed_at)
    )
