"""Shared helpers for the planner core tests (no tests here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from schemas.eligibility import Block
from services.planner.cadence import Cadence
from services.planner.calendar import ClinicCalendar
from services.planner.commands import (
    Command,
    EligibilityChanged,
    NotPerformedReason,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
)
from services.planner.courses import project_courses
from services.planner.decide import decide
from services.planner.notes import Profile
from services.planner.policy import DEFAULT_POLICY, PlannerPolicy
from services.planner.state import PatientState, ProfileFact

if TYPE_CHECKING:
    from services.planner.course import Course
    from services.planner.outputs import CourseOutput, Output, PlannedSession

BERLIN = ClinicCalendar(
    "Europe/Berlin", holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)})
)
MONDAY = date(2026, 11, 2)
ONE = timedelta(days=1)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return BERLIN.at(day, time(hour, minute))


# Enrolled long before any test's facts: the planner plans nothing before the enrolment.
ENROLLED = PatientState(profile=ProfileFact("enrolled", at(date(2025, 1, 6)), Profile()))


@dataclass
class Harness:
    """A patient fed command by command, remembering every output."""

    calendar: ClinicCalendar = BERLIN
    policy: PlannerPolicy = DEFAULT_POLICY
    state: PatientState = field(default_factory=lambda: ENROLLED)
    outputs: list[Output] = field(default_factory=list)
    counter: int = 0
    known_blocks: list[Block] = field(default_factory=list)

    def feed(self, command: Command, today: date | None = None) -> tuple[Output, ...]:
        day = today or self.calendar.local_date(command.occurred_at)
        self.state, outputs = decide(self.state, command, day, self.calendar, self.policy)
        self.outputs += outputs
        return outputs

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def prescribe(
        self,
        *,
        start: date = MONDAY,
        sessions: int = 15,
        cadence: Cadence = Cadence.EVERY_OTHER_DAY,
        course_id: str = "C1",
        preferred: time | None = time(9),
        prescribed_on: date | None = None,
    ) -> tuple[Output, ...]:
        when = at(prescribed_on or start, 8)
        return self.feed(
            PrescribeCourse(
                self.next_id("rx"), when, course_id, sessions, cadence, start, preferred
            )
        )

    def course(self, course_id: str = "C1") -> Course:
        return next(
            c
            for c in project_courses(self.state, self.calendar, self.policy)
            if c.course_id == course_id
        )

    def plan(self, course_id: str = "C1") -> tuple[PlannedSession, ...]:
        return self.course(course_id).plan

    def complete(self, session: PlannedSession, course_id: str = "C1") -> tuple[Output, ...]:
        moment = at(session.on, 9)
        return self.feed(
            SessionCompleted(self.next_id("done"), moment, course_id, session.session_id, moment)
        )

    def complete_next(self, count: int = 1, course_id: str = "C1") -> None:
        for _ in range(count):
            self.complete(self.plan(course_id)[0], course_id)

    def not_performed(
        self, session: PlannedSession, reason: NotPerformedReason, course_id: str = "C1"
    ) -> tuple[Output, ...]:
        return self.feed(
            SessionNotPerformed(
                self.next_id("np"), at(session.on, 9), course_id, session.session_id, reason
            )
        )

    def eligibility(
        self,
        on: date,
        *,
        eligible: bool,
        blocks: tuple[Block, ...] = (),
        eligible_from: date | None = None,
        history: tuple[Block, ...] | None = None,
    ) -> tuple[Output, ...]:
        """The decision eligibility publishes on `on`.

        Like eligibility, it carries every block known so far: unless `history` is given, a
        block of an earlier decision that is not among `blocks` is over. An open one was
        ended by a clinical event reported on `on` (a remission, a resolution): eligibility
        ends it the day after (R-REMISSION).
        """
        if history is None:
            ended = [b for b in self.known_blocks if (b.rule, b.since) not in _keys(blocks)]
            history = tuple(
                b if b.until else Block(rule=b.rule, since=b.since, until=on + ONE) for b in ended
            )
        self.known_blocks = [*history, *blocks]
        version = self.state.eligibility_version + 1
        return self.feed(
            EligibilityChanged(
                self.next_id("el"), at(on, 12), eligible, eligible_from, blocks, version, history
            )
        )

    def physical_therapy(
        self, starts_at: datetime, appointment_id: str = "PT1"
    ) -> tuple[Output, ...]:
        return self.feed(
            PhysicalTherapyBooked(
                self.next_id("pt"), starts_at - timedelta(days=3), appointment_id, starts_at
            )
        )

    def last(self, kind: type[CourseOutput]) -> CourseOutput:
        return next(o for o in reversed(self.outputs) if isinstance(o, kind))


def _keys(blocks: tuple[Block, ...]) -> set[tuple[str, date]]:
    return {(b.rule, b.since) for b in blocks}
