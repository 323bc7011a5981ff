"""The courses of a patient, recomputed from the facts alone (order independent).

Courses are taken in clinical order of prescription. R-COURSE-BREAK: a course starts no
earlier than one calendar month after the last session (done or planned) of the courses
before it; while an earlier course has no known dates, a later one waits without dates.
No session is planned before the day the plan is made, the prescription's clinic-local day:
a `start_on` in the past starts on the next open day from then, and a resumption, which
only ever follows a block's end, cannot go back before it either.

Course status on the wire: a block that begins on or after the prescription's day suspends
the course (it was under way, even before its first session); only a course prescribed on a
later day than the block's start waits as pending, dated or not, until the patient is
eligible.

R-POSTOP: a surgery cancels the courses under way on its day, the same way (prescribed on or
before it). The planner hears of a surgery twice, from the clinic and as the R-POSTOP block
of eligibility's decision (every surgery is a knee replacement, and only a surgery makes
that block, from its day); each counts as the surgery, by its day alone, so whichever comes
first cancels the course and the other changes nothing: never a suspension on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from schemas.rules import RuleId
from services.planner.blocked_periods import BlockedPeriod, blocked_periods
from services.planner.course import TERMINAL, Course
from services.planner.facts import SURGERY_REASON
from services.planner.outputs import CourseStatus
from services.planner.plan import DatedPlan, date_course, first_completions
from services.planner.sessions import physical_therapy_by_day, planned_sessions
from services.runtime.months import add_months

if TYPE_CHECKING:
    from services.planner.calendar import ClinicCalendar
    from services.planner.policy import PlannerPolicy
    from services.planner.state import EligibilityFact, PatientState, Prescription

BASE_RULES = (RuleId.COURSE_LENGTH, RuleId.CADENCE, RuleId.DURATION_RAMP)
WAITING = frozenset({CourseStatus.PENDING, CourseStatus.SUSPENDED})
Link = tuple[date | None, bool]  # a course's last day (done or planned), whether it is undated


@dataclass(frozen=True, slots=True)
class _Break:
    """What the courses before one leave it (R-COURSE-BREAK): their last day, done or
    planned, and whether one of them waits without dates.
    """

    previous_end: date | None = None
    previous_undated: bool = False

    def then(self, link: Link) -> _Break:
        last_day, undated = link
        end = self.previous_end
        if last_day is not None:
            end = max(end or last_day, last_day)
        return _Break(end, self.previous_undated or undated)


def project_courses(
    state: PatientState, calendar: ClinicCalendar, policy: PlannerPolicy
) -> tuple[Course, ...]:
    """Every course, planned again from all the facts."""
    return replan_courses(state, state, None, calendar, policy)


def replan_courses(
    before: PatientState,
    after: PatientState,
    touched: frozenset[str] | None,
    calendar: ClinicCalendar,
    policy: PlannerPolicy,
) -> tuple[Course, ...]:
    """The courses planned again from the facts of `after`, in the order of prescription:
    the `touched` ones (None: all), and the later ones whose break a touched one moved.

    A course left alone is as `before` published it: `before` is settled (see `decide`),
    so its published status and open sessions are what planning it again would give.
    A completed or cancelled course does not depend on the courses before it.
    """
    eligibility = eligibility_view(after.eligibility)
    courses: list[Course] = []
    gap = _Break()
    left_alone: list[Prescription] = []  # folded into the break only when a later one needs it
    moved = False
    last = after.prescriptions[-1] if after.prescriptions else None
    for prescription in after.prescriptions:
        published = before.published_course(prescription.course_id)
        if not (
            touched is None
            or prescription.course_id in touched
            or (moved and (published is None or published.status not in TERMINAL))
        ):
            left_alone.append(prescription)
            continue
        for earlier in left_alone:
            gap = gap.then(_published_link(after, earlier, calendar))
        left_alone.clear()
        course = _project_in_turn(
            after, prescription, gap, eligibility, calendar=calendar, policy=policy
        )
        courses.append(course)
        link = _link(course)
        if touched is not None and not moved and prescription is not last:
            moved = published is None or link != _published_link(before, prescription, calendar)
        gap = gap.then(link)
    return tuple(courses)


@dataclass(frozen=True, slots=True)
class EligibilityView:
    """All planning reads of the latest decision: its blocked periods, the day the wait the
    patient is in began (None when eligible), the days of the surgeries its R-POSTOP blocks
    begin with.
    """

    periods: tuple[BlockedPeriod, ...]
    waiting_since: date | None
    surgeries: frozenset[date]


def eligibility_view(decision: EligibilityFact | None) -> EligibilityView:
    periods = blocked_periods(decision)
    blocks = () if decision is None else (*decision.history, *decision.blocks)
    surgeries = frozenset(b.since for b in blocks if b.rule == RuleId.POSTOP)
    return EligibilityView(periods, _waiting_since(decision, periods), surgeries)


def _project_in_turn(  # noqa: PLR0913
    state: PatientState,
    prescription: Prescription,
    gap: _Break,
    eligibility: EligibilityView,
    *,
    calendar: ClinicCalendar,
    policy: PlannerPolicy,
) -> Course:
    waiting_since = eligibility.waiting_since
    course = _project(
        state, prescription, eligibility, gap.previous_end, calendar=calendar, policy=policy
    )
    if gap.previous_undated and course.status not in TERMINAL:
        course = _undated(course, (RuleId.COURSE_BREAK,))
    not_started = course.status is CourseStatus.ACTIVE and not course.completed_sessions
    prescribed_on = calendar.local_date(prescription.prescribed_at)
    if not_started and waiting_since is not None and prescribed_on > waiting_since:
        course = replace(course, status=CourseStatus.PENDING)
    return course


def _link(course: Course) -> Link:
    return course.last_day, course.status in WAITING and not course.plan


def _published_link(
    state: PatientState, prescription: Prescription, calendar: ClinicCalendar
) -> Link:
    """A settled course's link, from what was published and the sessions done since."""
    published = state.published_course(prescription.course_id)
    assert published is not None, "a settled state has published every course"
    done = first_completions(prescription, state.attempts)
    planned = [s.on for s in published.sessions if s.session_id not in done]
    last_done = max((a.at for a in done.values()), default=None)
    days = [*planned, *(() if last_done is None else (calendar.local_date(last_done),))]
    return max(days, default=None), published.status in WAITING and not planned


def _project(  # noqa: PLR0913
    state: PatientState,
    prescription: Prescription,
    eligibility: EligibilityView,
    previous_end: date | None,
    *,
    calendar: ClinicCalendar,
    policy: PlannerPolicy,
) -> Course:
    periods = eligibility.periods
    break_ends = None if previous_end is None else add_months(previous_end, policy.break_months)
    moved_by_break = break_ends is not None and break_ends > prescription.start_on
    prescribed_on = calendar.local_date(prescription.prescribed_at)
    earliest = max(prescription.start_on, break_ends or prescription.start_on, prescribed_on)
    attempts = [a for a in state.attempts if a.course_id == prescription.course_id]
    dated = date_course(prescription, attempts, periods, earliest, calendar=calendar, policy=policy)
    sessions = planned_sessions(
        dated.sessions or (),
        completed=len(dated.completed_on),
        preferred_time=prescription.preferred_time,
        profile=state.current_profile,
        physical_therapy=state.physical_therapy,
        calendar=calendar,
    )
    therapy_days = physical_therapy_by_day(state.physical_therapy, calendar)
    uses_pt = any(s.on in therapy_days for s in dated.sessions or ())
    rules = {*BASE_RULES, *dated.deferred_by, *dated.held_by}
    rules |= {RuleId.COURSE_BREAK} if moved_by_break else set()
    rules |= {RuleId.PT_BEFORE} if uses_pt else set()
    course = Course(
        course_id=prescription.course_id,
        prescribed_sessions=prescription.sessions,
        cadence=prescription.cadence,
        earliest_start=prescription.start_on,
        preferred_time=prescription.preferred_time,
        status=_status(dated, prescribed_on, periods),
        version=_published_version(state, prescription.course_id),
        completed_sessions=len(dated.completed_on),
        completed_ids=dated.completed_ids,
        plan=sessions,
        rules=tuple(sorted(rules)),
        held_by=dated.held_by,
        deferred_by=dated.deferred_by,
        first_session_on=min(dated.completed_on, default=None),
        last_session_on=max(dated.completed_on, default=None),
    )
    surgeries = eligibility.surgeries | _reported_surgeries(state, calendar)
    cancellation = _cancelling(state, surgeries, prescription, course, calendar)
    if cancellation is None:
        return course
    reason, rule = cancellation
    return replace(
        course,
        status=CourseStatus.CANCELLED,
        plan=(),
        cancel_reason=reason,
        cancel_rule=rule,
    )


def _status(
    dated: DatedPlan, prescribed_on: date, periods: tuple[BlockedPeriod, ...]
) -> CourseStatus:
    if not dated.remaining_ids:
        return CourseStatus.COMPLETED
    if dated.sessions is None:
        return (
            CourseStatus.SUSPENDED
            if dated.completed_on or _was_under_way(prescribed_on, periods)
            else CourseStatus.PENDING
        )
    return CourseStatus.ACTIVE


def _was_under_way(prescribed_on: date, periods: tuple[BlockedPeriod, ...]) -> bool:
    """R-FLARE suspends an active course, even before its first session: a course
    prescribed on or before the day the open-ended block began is suspended; one prescribed
    on a later day waits (pending). Clinical dates decide, so the arrival order of the two
    topics does not.
    """
    open_since = [p.start for p in periods if p.end is None]
    return bool(open_since) and prescribed_on <= min(open_since)


def _waiting_since(
    decision: EligibilityFact | None, periods: tuple[BlockedPeriod, ...]
) -> date | None:
    """The first day of the blocked period the patient is in now; None when eligible.

    The decision's `blocks` hold on its day or later; the period that joins them (with the
    blocks they touch, e.g. a flare and its R-RHEUM-WAIT) is the one a course waits out.
    """
    if decision is None or decision.eligible:
        return None
    holding = [
        p.start
        for p in periods
        for b in decision.blocks
        if p.start <= b.since and (p.end is None or b.since < p.end)
    ]
    return min(holding, default=date.min)


def _undated(course: Course, held_by: tuple[str, ...]) -> Course:
    status = CourseStatus.SUSPENDED if course.completed_sessions else CourseStatus.PENDING
    rules = tuple(sorted({*course.rules, *held_by}))
    return replace(course, status=status, plan=(), held_by=held_by, rules=rules)


def _reported_surgeries(state: PatientState, calendar: ClinicCalendar) -> frozenset[date]:
    return frozenset(
        c.performed_on or calendar.local_date(c.at)
        for c in state.cancellations
        if c.rule == RuleId.POSTOP
    )


def _cancelling(
    state: PatientState,
    surgeries: frozenset[date],
    prescription: Prescription,
    course: Course,
    calendar: ClinicCalendar,
) -> tuple[str, str | None] | None:
    """(reason, rule) of the first surgery or withdrawal that ends the course, if any.

    A surgery ends a course prescribed on or before its day, a withdrawal one prescribed
    before it; neither a course completed by then.
    """
    prescribed_on = calendar.local_date(prescription.prescribed_at)
    completed_on = course.last_session_on if course.status is CourseStatus.COMPLETED else None

    def ends_it(day: date) -> bool:
        return completed_on is None or day < completed_on

    surgery = min((d for d in surgeries if prescribed_on <= d and ends_it(d)), default=None)
    withdrawal = next(
        (
            c
            for c in state.cancellations
            if c.rule is None
            and c.at >= prescription.prescribed_at
            and ends_it(calendar.local_date(c.at))
        ),
        None,
    )
    if withdrawal is not None and (surgery is None or calendar.local_date(withdrawal.at) < surgery):
        return withdrawal.reason, None
    return None if surgery is None else (SURGERY_REASON, RuleId.POSTOP)


def _published_version(state: PatientState, course_id: str) -> int:
    published = state.published_course(course_id)
    return 0 if published is None else published.version
