"""Schedule events → notices: one notice per change, worded for the staff who act on it."""

from collections.abc import Callable

from schemas import schedule as s
from schemas.rules import RuleId
from services.notifier.calendar_updates import CalendarUpdate
from services.notifier.kinds import Kind
from services.notifier.notice import Notice
from services.notifier.wording import listed, merged_rules, plural, span, with_rules

Composer = Callable[[s.CourseData], tuple[Kind, tuple[str, ...], str]]


def _scheduled(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    if data.status == "pending":
        return (
            Kind.COURSE_PENDING,
            (),
            (f"course {data.course_id} pending: not eligible yet, {span(data.sessions)}"),
        )
    return Kind.COURSE_SCHEDULED, (), f"course {data.course_id} scheduled: {span(data.sessions)}"


def _suspended(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    assert isinstance(data, s.CourseSuspendedData)
    cancelled = data.cancelled_session_ids
    return (
        Kind.COURSE_SUSPENDED,
        (),
        (
            f"course {data.course_id} suspended after {data.completed_sessions} completed; "
            f"{plural(len(cancelled), 'session')} cancelled: {listed(cancelled) or 'none'}"
        ),
    )


def _resumed(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    return Kind.COURSE_RESUMED, (), f"course {data.course_id} resumed: {span(data.sessions)}"


def _rescheduled(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    assert isinstance(data, s.CourseRescheduledData)
    if not data.sessions and not data.changes:
        # A plan taken away with no session moved: planners before issue 12 sent this for a
        # block from the prescription's day on (now a suspension); kept for their events.
        on_hold = f"course {data.course_id} on hold: no sessions planned until eligible again"
        return Kind.SESSIONS_RESCHEDULED, (), on_hold
    moves = [f"{c.session_id} {c.from_on.isoformat()}->{c.to_on.isoformat()}" for c in data.changes]
    if any(c.from_starts_at != c.to_starts_at and c.from_on == c.to_on for c in data.changes):
        moves.append("start times changed")
    return (
        Kind.SESSIONS_RESCHEDULED,
        (),
        (f"course {data.course_id}: {plural(len(data.changes), 'session')} moved: {listed(moves)}"),
    )


def _completed(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    assert isinstance(data, s.CourseCompletedData)
    return (
        Kind.COURSE_COMPLETED,
        (),
        (
            f"course {data.course_id} completed after {data.completed_sessions} sessions; "
            f"next course from {data.next_course_earliest_on.isoformat()}, "
            f"due by {data.next_course_due_by.isoformat()}"
        ),
    )


def _cancelled(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    assert isinstance(data, s.CourseCancelledData)
    text = (
        f"course {data.course_id} cancelled ({data.reason}) after "
        f"{data.completed_sessions} completed sessions"
    )
    if data.next_course_earliest_on is None:
        return Kind.COURSE_CANCELLED, (), text
    next_course = f"; next course not before {data.next_course_earliest_on.isoformat()}"
    return Kind.COURSE_CANCELLED, (RuleId.COURSE_BREAK,), text + next_course


def _next_due(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    assert isinstance(data, s.CourseNextDueData)
    due = data.next_course_due_by.isoformat() if data.next_course_due_by else "soon"
    earliest = data.next_course_earliest_on
    window = f" (not before {earliest.isoformat()})" if earliest else ""
    return (
        Kind.NEXT_COURSE_DUE,
        (RuleId.COURSES_PER_YEAR,),
        (f"next course due by {due}{window} and none prescribed after course {data.course_id}"),
    )


def _review(data: s.CourseData) -> tuple[Kind, tuple[str, ...], str]:
    assert isinstance(data, s.CourseReviewRequestedData)
    return (
        Kind.REPEATED_PAIN_REVIEW,
        (RuleId.SESSION_PAIN,),
        (
            f"course {data.course_id}: sessions {listed(data.session_ids)} not performed in a row "
            "for pain or discomfort; please review"
        ),
    )


_COMPOSERS: dict[type[s.CourseData], Composer] = {
    s.CourseScheduledData: _scheduled,
    s.CourseSuspendedData: _suspended,
    s.CourseResumedData: _resumed,
    s.CourseRescheduledData: _rescheduled,
    s.CourseCompletedData: _completed,
    s.CourseCancelledData: _cancelled,
    s.CourseNextDueData: _next_due,
    s.CourseReviewRequestedData: _review,
}


def schedule_notice(
    event_id: str, patient_id: str, data: s.CourseData, calendar: CalendarUpdate | None = None
) -> Notice:
    kind, extra_rules, text = _COMPOSERS[type(data)](data)
    rules = merged_rules(extra_rules, data.rules)
    summary = with_rules(f"Patient {patient_id}: {text}", rules)
    return Notice(kind, patient_id, event_id, rules, summary, calendar)
