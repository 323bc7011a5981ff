"""A course as one frozen value, and its state machine.

pending -> active <-> suspended -> completed; any non-terminal state -> cancelled.
The status is derived from the facts (see `courses.py`); the machine says which derived
changes are legal, so an impossible jump is caught instead of published.
"""

from dataclasses import dataclass
from datetime import date, time

from services.planner.cadence import Cadence
from services.planner.outputs import CourseStatus, PlannedSession

TERMINAL = frozenset({CourseStatus.COMPLETED, CourseStatus.CANCELLED})
TRANSITIONS: dict[CourseStatus, frozenset[CourseStatus]] = {
    CourseStatus.PENDING: frozenset(
        {CourseStatus.ACTIVE, CourseStatus.SUSPENDED, *TERMINAL},
    ),
    CourseStatus.ACTIVE: frozenset(
        {CourseStatus.PENDING, CourseStatus.SUSPENDED, *TERMINAL},
    ),
    CourseStatus.SUSPENDED: frozenset({CourseStatus.ACTIVE, CourseStatus.PENDING, *TERMINAL}),
    # A late report may show a completed course was cancelled first (or the reverse).
    CourseStatus.COMPLETED: frozenset({CourseStatus.CANCELLED}),
    CourseStatus.CANCELLED: frozenset({CourseStatus.COMPLETED}),
}


def can_transition(old: CourseStatus, new: CourseStatus) -> bool:
    return old == new or new in TRANSITIONS[old]


@dataclass(frozen=True, slots=True)
class Course:
    course_id: str
    prescribed_sessions: int
    cadence: Cadence
    earliest_start: date
    preferred_time: time | None
    status: CourseStatus
    version: int
    completed_sessions: int
    completed_ids: tuple[str, ...]
    plan: tuple[PlannedSession, ...]
    rules: tuple[str, ...]  # the rules that shape the current plan
    held_by: tuple[str, ...]  # blocking rules while no date is known
    deferred_by: tuple[str, ...]  # blocking rules that moved the remaining sessions
    first_session_on: date | None
    last_session_on: date | None  # of the completed sessions
    cancel_reason: str | None = None
    cancel_rule: str | None = None

    @property
    def last_day(self) -> date | None:
        """The last session day, done or planned (for the break to the next course)."""
        days = [d for d in (self.last_session_on, *(s.on for s in self.plan)) if d is not None]
        return max(days, default=None)
