"""Core outputs → `courseflow.course.*` events (the contract's view of a course)."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, TypeVar
from uuid import uuid4

from pydantic import TypeAdapter

from schemas import schedule
from schemas.base import WireModel
from schemas.causes import Cause
from schemas.envelope import DATACONTENTTYPE, SPECVERSION, Envelope
from schemas.rules import RuleId
from schemas.schedule import (
    CourseCancelled,
    CourseCancelledData,
    CourseCompleted,
    CourseCompletedData,
    CourseNextDue,
    CourseNextDueData,
    CourseRescheduled,
    CourseRescheduledData,
    CourseResumed,
    CourseResumedData,
    CourseReviewRequested,
    CourseReviewRequestedData,
    CourseScheduled,
    CourseScheduledData,
    CourseSuspended,
    CourseSuspendedData,
)
from schemas.types import UriReference
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

M = TypeVar("M", bound=WireModel)


@dataclass(frozen=True, slots=True)
class Envelopes:
    source: str
    patient_id: str
    cause: Cause
    now: datetime

    def event(
        self, event_type: type[Envelope], data_type: type[WireModel], data: dict[str, Any]
    ) -> Envelope:
        return _built(
            event_type,
            {
                "specversion": SPECVERSION,
                "id": str(uuid4()),
                "source": _checked_source(self.source),
                "type": _event_type(event_type),
                "time": self.now,
                "subject": self.patient_id,
                "datacontenttype": DATACONTENTTYPE,
                "data": _built(data_type, data),
                **self.cause.attributes(),
            },
        )


def to_wire(output: Output, state: PatientState, envelopes: Envelopes) -> Envelope | None:  # noqa: PLR0911
    """The schedule event for one output; None for what is not published (reminders, rejects).

    `state` is the state after the decision, for the course a review flag refers to.
    """
    match output:
        case Scheduled():
            return envelopes.event(CourseScheduled, CourseScheduledData, _head(output))
        case Suspended():
            data = _head(output) | {"cancelled_session_ids": output.cancelled_session_ids}
            return envelopes.event(CourseSuspended, CourseSuspendedData, data)
        case Resumed():
            return envelopes.event(CourseResumed, CourseResumedData, _head(output))
        case Rescheduled():
            data = _head(output) | {"changes": _dated_changes(output.changes)}
            return envelopes.event(CourseRescheduled, CourseRescheduledData, data)
        case Completed():
            data = _head(output) | _next_course(output)
            return envelopes.event(CourseCompleted, CourseCompletedData, data)
        case Cancelled():
            return envelopes.event(CourseCancelled, CourseCancelledData, _cancelled(output))
        case NextDue():
            data = _head(output) | _next_course(output)
            return envelopes.event(CourseNextDue, CourseNextDueData, data)
        case ReviewFlag():
            published = state.published_course(output.course_id)
            if published is None:
                return None
            data = _review(output, published)
            return envelopes.event(CourseReviewRequested, CourseReviewRequestedData, data)
    return None


def _built(model: type[M], fields: dict[str, Any]) -> M:
    """A contract model from parts that are valid already, every field given.

    The core's outputs hold only what the contract allows (the tests check every event the
    planner publishes against the generated JSON Schemas and the strict models), so they are
    not validated again here. `model_construct` would do the same, but fills each field by
    a slower generic loop (slower than validating, measured); every field is given here.
    """
    in_order = {name: fields[name] for name in _field_names(model)}  # JSON keys in this order
    built = _new(model)
    _set(built, "__dict__", in_order)
    _set(built, "__pydantic_fields_set__", set(in_order))
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built


@cache
def _field_names(model: type[WireModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


_new = object.__new__
_set = object.__setattr__
_RULES = {rule.value: rule for rule in RuleId}


@lru_cache(maxsize=64)
def _checked_source(source: str) -> str:
    """The one part of an envelope that comes from settings, not from a valid event."""
    return _SOURCE.validate_python(source)


_SOURCE: TypeAdapter[str] = TypeAdapter(UriReference)


@cache
def _event_type(event_type: type[Envelope]) -> str:
    return event_type.event_type()


def _head(event: CourseEvent) -> dict[str, Any]:
    return {
        "course_id": event.course_id,
        "status": event.status.value,
        "version": event.version,
        "rules": _rule_ids(event.rules),
        "sessions": tuple(_session(s) for s in event.sessions),
        "completed_sessions": event.completed_sessions,
        "capacity_shortage_on": event.capacity_shortage_on,
    }


def _rule_ids(rules: tuple[str, ...]) -> tuple[RuleId, ...]:
    return tuple([_RULES[rule] for rule in rules])


def _review(flag: ReviewFlag, published: PublishedCourse) -> dict[str, Any]:
    """The course as last published, version not incremented: the flag changes no plan.
    With a roster the flag carries the sessions as shown (therapist and time)."""
    sessions = published.sessions if flag.sessions is None else flag.sessions
    return {
        "course_id": flag.course_id,
        "status": published.status.value,
        "version": published.version,
        "rules": _rule_ids(flag.rules),
        "sessions": tuple(_session(s) for s in sessions),
        "completed_sessions": published.completed_sessions,
        "capacity_shortage_on": flag.capacity_shortage_on,
        "session_ids": flag.session_ids,
    }


def _session(session: PlannedSession) -> schedule.PlannedSession:
    return _built(
        schedule.PlannedSession,
        {
            "session_id": session.session_id,
            "number": session.number,
            "on": session.on,
            "starts_at": session.starts_at,
            "duration_min": session.duration_min,
            "notes": _rule_ids(session.notes),
            "sequence": session.sequence,
            "therapist_id": session.therapist_id,
        },
    )


def _dated_changes(changes: tuple[SessionChange, ...]) -> tuple[schedule.SessionChange, ...]:
    """Sessions added or dropped have no from/to date; `sessions` carries the full plan."""
    return tuple(
        _built(
            schedule.SessionChange,
            {
                "session_id": c.session_id,
                "from_on": c.from_on,
                "to_on": c.to_on,
                "from_starts_at": c.from_starts_at,
                "to_starts_at": c.to_starts_at,
                "from_therapist_id": c.from_therapist_id,
                "to_therapist_id": c.to_therapist_id,
            },
        )
        for c in changes
        if c.from_on is not None and c.to_on is not None
    )


def _next_course(event: Completed | NextDue) -> dict[str, Any]:
    return {
        "next_course_earliest_on": event.next_course_earliest_on,
        "next_course_due_by": event.next_course_due_by,
    }


def _cancelled(event: Cancelled) -> dict[str, Any]:
    return _head(event) | {
        "reason": _reason(event),
        "next_course_earliest_on": event.next_course_earliest_on,
    }


def _reason(event: Cancelled) -> str:
    return "surgery" if RuleId.POSTOP in event.rules else "withdrawal"
