"""What the core asks the shell to publish or arm; mirrors `courseflow.course.*`."""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class CourseStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PlannedSession:
    session_id: str
    number: int
    on: date
    starts_at: datetime | None
    duration_min: int
    notes: tuple[str, ...]
    sequence: tuple[str, ...]
    therapist_id: str | None = None  # None while the clinic has no roster


@dataclass(frozen=True, slots=True)
class CourseEvent:
    course_id: str
    status: CourseStatus
    version: int
    rules: tuple[str, ...]
    sessions: tuple[PlannedSession, ...]
    completed_sessions: int
    # R-CAPACITY: the days (as the core dated them) of sessions that wait for a therapist;
    # filled by `services.planner.staffing`, empty while the clinic has no roster.
    capacity_shortage_on: tuple[date, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True, slots=True)
class Scheduled(CourseEvent):
    pass


@dataclass(frozen=True, slots=True)
class Suspended(CourseEvent):
    cancelled_session_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resumed(CourseEvent):
    pass


@dataclass(frozen=True, slots=True)
class SessionChange:
    session_id: str
    from_on: date | None
    to_on: date | None
    from_starts_at: datetime | None
    to_starts_at: datetime | None
    from_therapist_id: str | None = None
    to_therapist_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rescheduled(CourseEvent):
    changes: tuple[SessionChange, ...]


@dataclass(frozen=True, slots=True)
class Completed(CourseEvent):
    next_course_earliest_on: date
    next_course_due_by: date


@dataclass(frozen=True, slots=True)
class Cancelled(CourseEvent):
    reason: str
    # R-COURSE-BREAK from the last performed session; None when none was performed.
    next_course_earliest_on: date | None = None


@dataclass(frozen=True, slots=True)
class NextDue(CourseEvent):
    next_course_earliest_on: date
    next_course_due_by: date


@dataclass(frozen=True, slots=True)
class ReviewFlag:
    """R-SESSION-PAIN: two severe-pain/discomfort sessions in a row, for staff review."""

    course_id: str
    session_ids: tuple[str, ...]
    rules: tuple[str, ...]
    reason: str
    # The course's sessions as shown with a roster (therapist and time); None: as the core
    # last published them (date-only).
    sessions: tuple[PlannedSession, ...] | None = None
    capacity_shortage_on: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class CourseRejected:
    """A prescription the core refuses (R-COURSE-LENGTH); nothing is stored."""

    course_id: str
    reason: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ArmReminder:
    """Arm a durable timer: fire a `Tick` on `fire_on` (next-course reminder)."""

    course_id: str
    fire_on: date


CourseOutput = Scheduled | Suspended | Resumed | Rescheduled | Completed | Cancelled | NextDue

Output = (
    Scheduled
    | Suspended
    | Resumed
    | Rescheduled
    | Completed
    | Cancelled
    | NextDue
    | ReviewFlag
    | CourseRejected
    | ArmReminder
)
