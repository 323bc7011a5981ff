"""The planner's pure entry point: `decide(state, command, ...) -> (new_state, outputs)`.

The command's fact is recorded, the courses it can change are planned again from the facts,
and each course whose result differs from what was last published gets one output. Before
the patient's enrolment facts are only recorded (DOMAIN.md, "Clinical time"). `today` is
only read for the next-course reminder on a `Tick`; all dates otherwise come from clinical
dates.

Every state `decide` returns for an enrolled patient is *settled*: planning any of its
courses again from its facts, on the same basis (rules, calendar, policy), gives the status
and the open sessions last published. So a course the command cannot change needs no
planning: the reason `decide` may plan only the courses `touched.courses_touched` names and
give what planning every course would.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from schemas.rules import RuleId
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
from services.planner.course_events import (
    course_event,
    follow_ups,
    next_course_window,
    reminder_day,
)
from services.planner.courses import replan_courses
from services.planner.facts import record
from services.planner.notes import Profile, session_notes
from services.planner.outputs import CourseRejected, CourseStatus, NextDue, Output
from services.planner.pain import pain_streaks
from services.planner.policy import DEFAULT_POLICY, PlannerPolicy
from services.planner.state import PatientState, PublishedCourse
from services.planner.touched import courses_touched

if TYPE_CHECKING:
    from datetime import date

    from services.planner.calendar import ClinicCalendar
    from services.planner.course import Course


def decide(
    state: PatientState,
    command: Command,
    today: date,
    calendar: ClinicCalendar,
    policy: PlannerPolicy = DEFAULT_POLICY,
) -> tuple[PatientState, tuple[Output, ...]]:
    """Plans again only the courses the command can change (`touched`); the result is the
    one of `decide_replanning_all`, since every state `decide` returns is settled.
    """
    return _decide(state, command, today, calendar, policy, incremental=True)


def decide_replanning_all(
    state: PatientState,
    command: Command,
    today: date,
    calendar: ClinicCalendar,
    policy: PlannerPolicy = DEFAULT_POLICY,
) -> tuple[PatientState, tuple[Output, ...]]:
    """Every course planned again from all facts: the reference `decide` is tested against."""
    return _decide(state, command, today, calendar, policy, incremental=False)


def _decide(  # noqa: PLR0913
    state: PatientState,
    command: Command,
    today: date,
    calendar: ClinicCalendar,
    policy: PlannerPolicy,
    *,
    incremental: bool,
) -> tuple[PatientState, tuple[Output, ...]]:
    if isinstance(command, PrescribeCourse) and not (
        policy.min_sessions <= command.sessions <= policy.max_sessions
    ):
        # The reason reaches logs and dead-letter headers: it names the rule, not the input.
        reason = f"a course is {policy.min_sessions} to {policy.max_sessions} sessions"
        return state, (CourseRejected(command.course_id, reason, (RuleId.COURSE_LENGTH,)),)
    recorded = record(state, command)
    if recorded.profile is None:
        # Facts before the enrolment (a prescription too) wait as input: nothing is planned
        # for a patient eligibility has not decided on; the enrolment plans them all.
        return recorded, ()
    basis = planning_basis(calendar, policy)
    touched = None
    if incremental and recorded.planned_with == basis:
        touched = courses_touched(state, recorded, command, calendar)
    courses = replan_courses(state, recorded, touched, calendar, policy)
    published = {p.course_id: p for p in recorded.published}
    outputs = _course_events(courses, published, cause_rules(command, state), policy, calendar)
    flagged = list(recorded.flagged_streaks)
    for key, flag in pain_streaks(recorded, policy, touched):
        if key not in flagged:
            flagged.append(key)
            outputs.append(flag)
    reminded = list(recorded.reminded_courses)
    if isinstance(command, Tick):
        assert touched is None, "a reminder is due only after the last course: all are planned"
        for course, reminder in _due_reminders(recorded, courses, today, policy, calendar):
            reminded.append(course.course_id)
            outputs.append(reminder)
            published[course.course_id] = replace(
                published[course.course_id], version=reminder.version
            )
    if touched is not None and not outputs:
        return recorded, ()  # settled, in the same order of prescription: nothing to rebuild
    new_state = replace(
        recorded,
        published=tuple(published[p.course_id] for p in recorded.prescriptions),
        flagged_streaks=tuple(flagged),
        reminded_courses=tuple(reminded),
        planned_with=basis,
    )
    return new_state, tuple(outputs)


PLANNING_RULES = 2  # raise it with a change of the rules that may change published plans


@lru_cache(maxsize=16)
def planning_basis(calendar: ClinicCalendar, policy: PlannerPolicy) -> str:
    """All a plan depends on besides the facts: the rules, the clinic's calendar, the policy.

    A state is settled only on the basis it was planned on: after a new holiday, another
    policy or other rules, its courses are all planned again once, as a full plan would.
    """
    basis = (
        PLANNING_RULES,
        calendar.time_zone,
        sorted(calendar.open_weekdays),
        sorted(day.isoformat() for day in calendar.holidays),
        astuple(policy),
    )
    return hashlib.sha256(repr(basis).encode()).hexdigest()[:16]


def _course_events(
    courses: tuple[Course, ...],
    published: dict[str, PublishedCourse],
    cause: tuple[str, ...],
    policy: PlannerPolicy,
    calendar: ClinicCalendar,
) -> list[Output]:
    """The events of the courses whose plan or status changed; `published` follows them."""
    outputs: list[Output] = []
    for course in courses:
        event = course_event(published.get(course.course_id), course, cause, policy, calendar)
        if event is None:
            continue
        outputs += [event, *follow_ups(event, course, policy, calendar)]
        published[course.course_id] = PublishedCourse(
            course.course_id, event.version, event.status, event.sessions, event.completed_sessions
        )
    return outputs


FIXED_CAUSE_RULES: dict[type, tuple[str, ...]] = {
    PhysicalTherapyBooked: (RuleId.PT_BEFORE,),
    SessionNotPerformed: (RuleId.SESSION_PAIN,),
    SessionCompleted: (RuleId.CADENCE,),
    PrescribeCourse: (RuleId.COURSE_BREAK,),
}


def cause_rules(command: Command, before: PatientState) -> tuple[str, ...]:
    """The rules behind a reschedule caused by this command."""
    match command:
        case EligibilityChanged():
            blocking = {b.rule for b in command.blocks}
            return tuple(sorted(blocking | ({RuleId.REMISSION} if command.eligible else set())))
        case UpdateProfile():
            after = Profile(
                command.rheumatic_inflammation,
                command.impaired_limb_blood_supply,
                command.knee_painful_on_palpation,
                command.severe_swelling,
            )
            changed = set(session_notes(after)) ^ set(session_notes(before.current_profile))
            return tuple(sorted(changed | {RuleId.SEQUENCE}))
        case _:
            return FIXED_CAUSE_RULES.get(type(command), ())


def _due_reminders(
    state: PatientState,
    courses: tuple[Course, ...],
    today: date,
    policy: PlannerPolicy,
    calendar: ClinicCalendar,
) -> list[tuple[Course, NextDue]]:
    """R-COURSES-PER-YEAR: remind before the due date if no later course was prescribed."""
    due: list[tuple[Course, NextDue]] = []
    for index, course in enumerate(courses):
        later_prescribed = index < len(courses) - 1
        if course.status is not CourseStatus.COMPLETED or later_prescribed:
            continue
        if course.course_id in state.reminded_courses or today < reminder_day(
            course, policy, calendar
        ):
            continue
        earliest, due_by = next_course_window(course, policy, calendar)
        published = state.published_course(course.course_id)
        version = (0 if published is None else published.version) + 1
        reminder = NextDue(
            course_id=course.course_id,
            status=course.status,
            version=version,
            rules=(RuleId.COURSES_PER_YEAR,),
            sessions=(),
            completed_sessions=course.completed_sessions,
            next_course_earliest_on=earliest,
            next_course_due_by=due_by,
        )
        due.append((course, reminder))
    return due
