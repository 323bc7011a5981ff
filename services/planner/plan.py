"""Dating one course's sessions from the facts (R-CADENCE, R-DURATION-RAMP, R-SESSION-PAIN).

Outcomes are replayed in clinical order. Each outcome outside a blocked period takes a
session day: the cadence continues from the day it fell on, a completed session advances
the ramp, a session not performed moves to the end of the course (it is not lost). Any
blocked period between two session days interrupts the run: the next session is on the
first open day after it, and the ramp starts again (R-DURATION-RAMP **policy**). Outcomes
inside a blocked period (a late report) still count, but do not move the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.planner.cadence import Cadence, next_session_date
from services.planner.calendar import ONE_DAY, ClinicCalendar
from services.planner.ramp import ramp_minutes

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from services.planner.blocked_periods import BlockedPeriod
    from services.planner.policy import PlannerPolicy
    from services.planner.state import Attempt, Prescription


@dataclass(frozen=True, slots=True)
class DatedSession:
    session_id: str
    on: date
    duration_min: int


@dataclass(frozen=True, slots=True)
class DatedPlan:
    completed_ids: tuple[str, ...]
    completed_on: tuple[date, ...]
    remaining_ids: tuple[str, ...]
    sessions: tuple[DatedSession, ...] | None  # None: no date is known yet
    held_by: tuple[str, ...]  # rules of the open-ended period leaving the plan undated
    deferred_by: tuple[str, ...]  # rules of the periods that moved the remaining sessions


def session_id(course_id: str, number: int) -> str:
    """Stable and deterministic: replays produce identical ids."""
    return f"{course_id}-s{number:02d}"


def first_completions(
    prescription: Prescription, attempts: Sequence[Attempt]
) -> dict[str, Attempt]:
    """The sessions `date_course` counts as completed: each at its first completion in
    clinical order (a session stays completed; a session id not of the course never is).
    """
    known = {session_id(prescription.course_id, n) for n in range(1, prescription.sessions + 1)}
    done: dict[str, Attempt] = {}
    for attempt in attempts:
        if attempt.course_id != prescription.course_id or not attempt.completed:
            continue
        if attempt.session_id in known and attempt.session_id not in done:
            done[attempt.session_id] = attempt
    return done


@dataclass(slots=True)
class _Run:
    cadence: Cadence
    next_day: date
    last_day: date  # the last session day of the run (day before the start at first)
    position: int = 0


def date_course(  # noqa: PLR0913
    prescription: Prescription,
    attempts: Sequence[Attempt],
    periods: Sequence[BlockedPeriod],
    earliest: date,
    *,
    calendar: ClinicCalendar,
    policy: PlannerPolicy,
) -> DatedPlan:
    queue = [session_id(prescription.course_id, n) for n in range(1, prescription.sessions + 1)]
    completed_ids: list[str] = []
    completed_on: list[date] = []
    run = _Run(prescription.cadence, earliest, earliest - ONE_DAY)
    for attempt in attempts:
        if attempt.session_id not in queue:
            continue  # unknown, or already completed: a completed session stays completed
        day = calendar.local_date(attempt.at)
        queue.remove(attempt.session_id)
        if attempt.completed:
            completed_ids.append(attempt.session_id)
            completed_on.append(day)
        else:
            queue.append(attempt.session_id)
        if periods and any(p.holds_between(day - ONE_DAY, day) for p in periods):
            continue
        if periods and any(p.holds_between(run.last_day, day - ONE_DAY) for p in periods):
            run.position = 0
        run.last_day = day
        run.next_day = next_session_date(day, run.cadence, calendar)
        run.position += 1 if attempt.completed else 0
    return _plan_remaining(
        (tuple(completed_ids), tuple(completed_on)),
        tuple(queue),
        run,
        periods,
        calendar=calendar,
        policy=policy,
    )


def _plan_remaining(  # noqa: PLR0913
    completed: tuple[tuple[str, ...], tuple[date, ...]],
    queue: tuple[str, ...],
    run: _Run,
    periods: Sequence[BlockedPeriod],
    *,
    calendar: ClinicCalendar,
    policy: PlannerPolicy,
) -> DatedPlan:
    sessions: list[DatedSession] = []
    deferred_by: set[str] = set()
    day = calendar.next_open_on_or_after(run.next_day)
    for sid in queue:
        while periods and (holding := [p for p in periods if p.holds_between(run.last_day, day)]):
            period = holding[0]
            if period.end is None:
                deferred = tuple(sorted(deferred_by))
                return DatedPlan(*completed, queue, None, period.rules, deferred)
            deferred_by.update(period.rules)
            run.position = 0
            run.last_day = period.end - ONE_DAY
            day = calendar.next_open_on_or_after(max(day, period.end))
        sessions.append(DatedSession(sid, day, ramp_minutes(run.position, policy)))
        run.position += 1
        run.last_day = day
        day = next_session_date(day, run.cadence, calendar)
    return DatedPlan(*completed, queue, tuple(sessions), (), tuple(sorted(deferred_by)))
