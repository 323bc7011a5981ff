"""`courseflow.course.*` on `courseflow.schedule`: the planner's view of a course."""

from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from schemas.base import WireModel
from schemas.envelope import Envelope
from schemas.rules import Rule, RuleId
from schemas.types import (
    ClinicDate,
    Identifier,
    Items,
    TherapistId,
    Timestamp,
    UniqueItems,
    is_none,
)

CourseStatus = Literal["pending", "active", "suspended", "completed", "cancelled"]
SessionNote = Literal[RuleId.NO_KNEE_WHEN_PAINFUL, RuleId.HEMODYNAMICS, RuleId.IN_WATER]
CancelReason = Literal["surgery", "withdrawal", "superseded"]


def _is_empty(value: tuple[str, ...]) -> bool:
    return not value


class PlannedSession(WireModel):
    """A session not yet done; `starts_at` is null when no time of day is fixed.

    `therapist_id` is null while the clinic has no roster; always sent, even when null.
    `sequence` (added, optional) is the therapist's order of work (R-SEQUENCE).
    """

    session_id: Identifier
    number: Annotated[int, Field(ge=1)]
    on: ClinicDate
    starts_at: Timestamp | None
    duration_min: Annotated[int, Field(ge=1, le=120)]
    notes: UniqueItems[SessionNote] = ()
    # Left out when empty, so events without it keep their exact bytes.
    sequence: Items[str] = Field(default=(), exclude_if=_is_empty)
    therapist_id: TherapistId | None = None


class SessionChange(WireModel):
    """The therapist ids are null while the clinic has no roster; always sent, even when null."""

    session_id: Identifier
    from_on: ClinicDate
    to_on: ClinicDate
    from_starts_at: Timestamp | None
    to_starts_at: Timestamp | None
    from_therapist_id: TherapistId | None = None
    to_therapist_id: TherapistId | None = None


class CourseData(WireModel):
    """Carried by every schedule event: `sessions` is the complete remaining plan.

    `capacity_shortage_on` (added, optional; left out when empty): the days of sessions that
    wait because no therapist is free within the capacity horizon (R-CAPACITY). Those sessions
    show without therapist or time; `rules` names R-CAPACITY on the event that reports a new
    shortage, so staff are told once per cause.
    """

    course_id: Identifier
    status: CourseStatus
    version: Annotated[int, Field(ge=1)]
    rules: UniqueItems[Rule]
    sessions: Items[PlannedSession]
    completed_sessions: Annotated[int, Field(ge=0)]
    capacity_shortage_on: UniqueItems[ClinicDate] = Field(default=(), exclude_if=_is_empty)


class CourseScheduledData(CourseData):
    pass


class CourseSuspendedData(CourseData):
    cancelled_session_ids: UniqueItems[Identifier]


class CourseResumedData(CourseData):
    pass


class CourseRescheduledData(CourseData):
    changes: Items[SessionChange]


class CourseCompletedData(CourseData):
    next_course_earliest_on: ClinicDate
    next_course_due_by: ClinicDate


class CourseCancelledData(CourseData):
    """`next_course_earliest_on` (optional, added): R-COURSE-BREAK counted from the last
    performed session, as on completion: the first open day on or after the break's end;
    left out when no session was performed.
    """

    reason: CancelReason
    next_course_earliest_on: ClinicDate | None = Field(default=None, exclude_if=is_none)


class CourseNextDueData(CourseData):
    """`course_id` is the completed course; the dates repeat its completion extras."""

    next_course_earliest_on: ClinicDate | None = None
    next_course_due_by: ClinicDate | None = None


class CourseReviewRequestedData(CourseData):
    """Added to the contract: sessions not performed in a row for pain (R-SESSION-PAIN)."""

    session_ids: UniqueItems[Identifier]


class CourseScheduled(Envelope):
    type: Literal["courseflow.course.scheduled"]
    data: CourseScheduledData


class CourseSuspended(Envelope):
    type: Literal["courseflow.course.suspended"]
    data: CourseSuspendedData


class CourseResumed(Envelope):
    type: Literal["courseflow.course.resumed"]
    data: CourseResumedData


class CourseRescheduled(Envelope):
    type: Literal["courseflow.course.rescheduled"]
    data: CourseRescheduledData


class CourseCompleted(Envelope):
    type: Literal["courseflow.course.completed"]
    data: CourseCompletedData


class CourseCancelled(Envelope):
    type: Literal["courseflow.course.cancelled"]
    data: CourseCancelledData


class CourseNextDue(Envelope):
    type: Literal["courseflow.course.next_due"]
    data: CourseNextDueData


class CourseReviewRequested(Envelope):
    type: Literal["courseflow.course.review_requested"]
    data: CourseReviewRequestedData


ScheduleEventUnion: TypeAlias = (
    CourseScheduled
    | CourseSuspended
    | CourseResumed
    | CourseRescheduled
    | CourseCompleted
    | CourseCancelled
    | CourseNextDue
    | CourseReviewRequested
)
ScheduleEvent = Annotated[ScheduleEventUnion, Field(discriminator="type")]
