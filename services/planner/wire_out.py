"""Core outputs → `courseflow.course.*` events (the contract's view of a course)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.causes import Cause
from schemas.codec import new_event
from schemas.envelope import Envelope
from schemas.rules import RuleId
from schemas.schedule import (
    CourseCancelled,
    CourseCompleted,
    CourseNextDue,
    CourseRescheduled,
    CourseResumed,
    CourseReviewRequested,
    CourseScheduled,
    CourseSuspended,
)
from services.planner.outputs import (
    Cancelled,
    Completed,
    CourseEvent,
    NextDue,
    Output,
    PlannedSession,
    Rescheduled,
    Resumed,
    ReviewFlag,
    Scheduled,
    SessionChange,
    Suspended,
)
from services.planner.state import PatientState, PublishedCourse


@dataclass(frozen=True, slots=True)
class Envelopes:
    source: str
    patient_id: str
    cause: Cause
    now: datetime

    def event(self, event_type: type[Envelope], data: dict[str, Any]) -> Envelope:
        return new_event(
            event_type, source=self.source, subject=self.patient_id, data=data, time=self.now,
            **self.cause.attributes(),
        )  # fmt: skip


def to_wire(output: Output, state: PatientState, envelopes: Envelopes) -> Envelope | None:  # noqa: PLR0911
    """The schedule event for one output; None for what is not published (reminders, rejects).

    `state` is the state after the decision, for the course a review flag refers to.
    """
    match output:
        case Scheduled():
            return envelopes.event(CourseScheduled, _head(output))
        case Suspended():
            data = {**_head(output), "cancelled_session_ids": output.cancelled_session_ids}
            return envelopes.event(CourseSuspended, data)
        case Resumed():
            return envelopes.event(CourseResumed, _head(output))
        case Rescheduled():
            data = {**_head(output), "changes": _dated_changes(output.changes)}
            return envelopes.event(CourseRescheduled, data)
        case Completed():
            return envelopes.event(CourseCompleted, {**_head(output), **_next_course(output)})
        case Cancelled():
            return envelopes.event(CourseCancelled, _cancelled(output))
        case NextDue():
            return envelopes.event(CourseNextDue, {**_head(output), **_next_course(output)})
        case ReviewFlag():
            published = state.published_course(output.course_id)
            if published is None:
                return None
            return envelopes.event(CourseReviewRequested, _review(output, published))
    return None


def _head(event: CourseEvent) -> dict[str, Any]:
    return {
        "course_id": event.course_id,
        "status": event.status.value,
        "version": event.version,
        "rules": event.rules,
        "sessions": [_session(s) for s in event.sessions],
        "completed_sessions": event.completed_sessions,
    }


def _review(flag: ReviewFlag, published: PublishedCourse) -> dict[str, Any]:
    """The course as last published, version not incremented: the flag changes no plan."""
    return {
        "course_id": flag.course_id,
        "status": published.status.value,
        "version": published.version,
        "rules": flag.rules,
        "sessions": [_session(s) for s in published.sessions],
        "completed_sessions": published.completed_sessions,
        "session_ids": flag.session_ids,
    }


def _session(session: PlannedSession) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "number": session.number,
        "on": session.on,
        "starts_at": session.starts_at,
        "duration_min": session.duration_min,
        "notes": session.notes,
        "sequence": session.sequence,
    }


def _dated_changes(changes: tuple[SessionChange, ...]) -> list[dict[str, Any]]:
    """Sessions added or dropped have no from/to date; `sessions` carries the full plan."""
    return [
        {
            "session_id": c.session_id,
            "from_on": c.from_on,
            "to_on": c.to_on,
            "from_starts_at": c.from_starts_at,
            "to_starts_at": c.to_starts_at,
        }
        for c in changes
        if c.from_on is not None and c.to_on is not None
    ]


def _next_course(event: Completed | NextDue) -> dict[str, Any]:
    return {
        "next_course_earliest_on": event.next_course_earliest_on,
        "next_course_due_by": event.next_course_due_by,
    }


def _cancelled(event: Cancelled) -> dict[str, Any]:
    earliest = event.next_course_earliest_on
    extra = {} if earliest is None else {"next_course_earliest_on": earliest}
    return {**_head(event), "reason": _reason(event), **extra}


def _reason(event: Cancelled) -> str:
    return "surgery" if RuleId.POSTOP in event.rules else "withdrawal"
