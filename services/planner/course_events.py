"""Diffing the recomputed course against what was last published, to pick the output.

Only real changes are published: a session completed as planned changes nothing staff
need to hear (its count shows in the next output). A change of status always is, so the
latest event of a course carries its current status: a pending course with known dates that
becomes active on its day (the eligibility decision of that day) is `scheduled` again, now
`active` and with the same plan; it was never under way, so it is not `resumed`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from schemas.rules import RuleId
from services.planner.course import can_transition
from services.planner.outputs import (
    ArmReminder,
    Cancelled,
    Completed,
    CourseOutput,
    CourseStatus,
    PlannedSession,
    Rescheduled,
    Resumed,
    Scheduled,
    SessionChange,
    Suspended,
)
from services.runtime.months import add_months

if TYPE_CHECKING:
    from datetime import date

    from services.planner.calendar import ClinicCalendar
    from services.planner.course import Course
    from services.planner.policy import PlannerPolicy
    from services.planner.state import PublishedCourse

RESUME_RULES = (RuleId.REMISSION, RuleId.CADENCE, RuleId.DURATION_RAMP)


def break_ends_on(last_session_on: date, policy: PlannerPolicy, calendar: ClinicCalendar) -> date:
    """R-COURSE-BREAK with R-CADENCE: the first open day on or after the break's end, the
    day the planner would really start the next course (it plans from the raw end onto the
    next open day), so no notice names a closed day.
    """
    return calendar.next_open_on_or_after(add_months(last_session_on, policy.break_months))


def next_course_window(
    course: Course, policy: PlannerPolicy, calendar: ClinicCalendar
) -> tuple[date, date]:
    """R-COURSES-PER-YEAR: (earliest start of the next course, due by).

    The due-by day is a deadline, not a day a course may start: it stays the rule's day
    (first session + the due months) even on a closed day, since moving it to an open day
    would change the deadline the rule sets; only a later break end moves it.
    """
    assert course.first_session_on is not None
    assert course.last_session_on is not None
    earliest = break_ends_on(course.last_session_on, policy, calendar)
    due_by = add_months(course.first_session_on, policy.next_course_due_months)
    return earliest, max(due_by, earliest)


def reminder_day(course: Course, policy: PlannerPolicy, calendar: ClinicCalendar) -> date:
    _, due_by = next_course_window(course, policy, calendar)
    return due_by - timedelta(days=policy.reminder_days_before_due)


Head = tuple[str, CourseStatus, int, tuple[str, ...], tuple[PlannedSession, ...], int]


def course_event(
    published: PublishedCourse | None,
    course: Course,
    cause_rules: tuple[str, ...],
    policy: PlannerPolicy,
    calendar: ClinicCalendar,
) -> CourseOutput | None:
    if published is not None and not _changed(published, course):
        return None
    if published is not None and not can_transition(published.status, course.status):
        return None  # a terminal state sticks; a late fact cannot reopen a course
    version = 1 if published is None else published.version + 1
    if course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        return _terminal_event(course, version, policy, calendar)
    if published is None or _planned_for_real(published, course):
        return Scheduled(*_head(course, version, course.rules))
    return _plan_event(published, course, version, cause_rules)


def _planned_for_real(published: PublishedCourse, course: Course) -> bool:
    """A waiting course gets its first dates, or the day it waited for has come."""
    if published.status is not CourseStatus.PENDING:
        return False
    return not published.sessions or course.status is CourseStatus.ACTIVE


def _head(course: Course, version: int, rules: tuple[str, ...]) -> Head:
    return (
        course.course_id,
        course.status,
        version,
        rules,
        course.plan,
        course.completed_sessions,
    )


def _terminal_event(
    course: Course, version: int, policy: PlannerPolicy, calendar: ClinicCalendar
) -> CourseOutput:
    if course.status is CourseStatus.CANCELLED:
        rules = () if course.cancel_rule is None else (course.cancel_rule,)
        last = course.last_session_on
        earliest = None if last is None else break_ends_on(last, policy, calendar)
        return Cancelled(*_head(course, version, rules), course.cancel_reason or "", earliest)
    earliest, due_by = next_course_window(course, policy, calendar)
    return Completed(*_head(course, version, (RuleId.COURSES_PER_YEAR,)), earliest, due_by)


def _plan_event(
    published: PublishedCourse, course: Course, version: int, cause_rules: tuple[str, ...]
) -> CourseOutput:
    before = published.status
    if course.status is CourseStatus.SUSPENDED and before is not CourseStatus.SUSPENDED:
        cancelled = tuple(s.session_id for s in _still_open(published, course))
        return Suspended(*_head(course, version, course.held_by), cancelled)
    if before is CourseStatus.SUSPENDED:
        rules = tuple(sorted({*RESUME_RULES, *course.deferred_by}))
        return Resumed(*_head(course, version, rules))
    changes = _changes(published, course)
    derived = {RuleId.CADENCE} if any(c.from_on != c.to_on for c in changes) else set()
    if _durations_changed(published, course):
        derived.add(RuleId.DURATION_RAMP)
    rules = tuple(sorted({*cause_rules, *derived}))
    return Rescheduled(*_head(course, version, rules), changes)


def follow_ups(
    event: CourseOutput, course: Course, policy: PlannerPolicy, calendar: ClinicCalendar
) -> tuple[ArmReminder, ...]:
    if isinstance(event, Completed):
        return (ArmReminder(course.course_id, reminder_day(course, policy, calendar)),)
    return ()


def _changed(published: PublishedCourse, course: Course) -> bool:
    if published.status in {CourseStatus.COMPLETED, CourseStatus.CANCELLED}:
        return published.status != course.status
    return _still_open(published, course) != course.plan or published.status != course.status


def _still_open(published: PublishedCourse, course: Course) -> tuple[PlannedSession, ...]:
    """The published plan without the sessions completed since (completion moves nothing)."""
    return tuple(s for s in published.sessions if s.session_id not in course.completed_ids)


def _changes(published: PublishedCourse, course: Course) -> tuple[SessionChange, ...]:
    before = {s.session_id: s for s in _still_open(published, course)}
    after = {s.session_id: s for s in course.plan}
    changes = []
    for session_id in sorted(before.keys() | after.keys()):
        old, new = before.get(session_id), after.get(session_id)
        old_at, new_at = (None if s is None else s.starts_at for s in (old, new))
        old_on, new_on = (None if s is None else s.on for s in (old, new))
        if old_on != new_on or old_at != new_at:
            changes.append(SessionChange(session_id, old_on, new_on, old_at, new_at))
    return tuple(changes)


def _durations_changed(published: PublishedCourse, course: Course) -> bool:
    before = {s.session_id: s.duration_min for s in published.sessions}
    return any(before.get(s.session_id, s.duration_min) != s.duration_min for s in course.plan)
