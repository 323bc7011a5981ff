"""Incremental planning: `decide` plans only the courses a command can change, and gives
exactly what planning every course again from all facts gives (`decide_replanning_all`),
along random histories of several courses in any order, with duplicates and late facts.
"""

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.cadence import Cadence
from services.planner.calendar import ClinicCalendar
from services.planner.commands import (
    Command,
    EligibilityChanged,
    NotPerformedReason,
    PatientWithdrawn,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
    SurgeryPerformed,
    Tick,
    UpdateProfile,
)
from services.planner.courses import project_courses
from services.planner.decide import decide, decide_replanning_all, planning_basis
from services.planner.outputs import CourseStatus
from services.planner.plan import session_id
from services.planner.policy import DEFAULT_POLICY, PlannerPolicy
from services.planner.state import PatientState
from tests.unit.test_planner_support import BERLIN, at

START = date(2026, 11, 2)
COURSES = ("C1", "C2", "C3")
RULES = (RuleId.FLARE, RuleId.CONTRA_FEVER, RuleId.RHEUM_WAIT, RuleId.POSTOP)
KINDS = (
    ["planned"] * 8
    + ["off_plan"] * 2
    + ["not_performed"] * 2
    + ["prescribe"] * 2
    + ["eligibility"] * 2
    + ["physical_therapy", "profile", "repeat", "tick", "cancel"]
)
NEW_HOLIDAYS = frozenset({*BERLIN.holidays, date(2026, 11, 20), date(2026, 12, 4)})
BASES = st.sampled_from(
    [(BERLIN, DEFAULT_POLICY)] * 8
    + [
        (ClinicCalendar(BERLIN.time_zone, holidays=NEW_HOLIDAYS), DEFAULT_POLICY),
        (BERLIN, PlannerPolicy(ramp_cap_min=12, break_months=2)),
    ]
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class History:
    """Random commands for one patient, drawn from what the patient's state shows."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.count = 0
        self.day = START
        self.version = 0
        self.past_blocks: list[Block] = []
        self.sent: list[Command] = []

    def next_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"

    def when(self) -> datetime:
        """Mostly moving on in clinical time, sometimes a late fact about the past."""
        step = int(self.data.draw(st.integers(-6, 3)))
        if step > 0:
            self.day += timedelta(days=step)
        return at(self.day + timedelta(days=min(step, 0)), self.data.draw(st.integers(7, 18)))

    def command(self, state: PatientState) -> Command:
        if not self.sent:
            return self.enrolment()
        kind = self.data.draw(st.sampled_from(KINDS))
        command = getattr(self, kind)(state)
        assert isinstance(command, Command)
        return command

    def enrolment(self) -> Command:
        return UpdateProfile(self.next_id("enrol"), at(START - timedelta(days=3), 8))

    def planned(self, state: PatientState) -> Command:
        """The next open session of an active course done on its day, as a clinic would."""
        open_sessions = [
            (p.course_id, s)
            for p in state.published
            if p.status is CourseStatus.ACTIVE
            for s in p.sessions
            if not any(a.completed and a.session_id == s.session_id for a in state.attempts)
        ]
        if not open_sessions:
            return self.prescribe(state)
        course_id, session = min(open_sessions, key=lambda c: c[1].on)
        self.day = max(self.day, session.on)
        done = at(session.on, 10)
        return SessionCompleted(self.next_id("done"), done, course_id, session.session_id, done)

    def _some_session(self, state: PatientState) -> tuple[str, str]:
        if not state.prescriptions:
            return "C1", "C1-s01"
        rx = self.data.draw(st.sampled_from(state.prescriptions))
        number = self.data.draw(st.integers(1, rx.sessions + 1))  # one past the end: unknown
        return rx.course_id, session_id(rx.course_id, number)

    def off_plan(self, state: PatientState) -> Command:
        course_id, sid = self._some_session(state)
        done = self.when()
        return SessionCompleted(self.next_id("done"), done, course_id, sid, done)

    def not_performed(self, state: PatientState) -> Command:
        course_id, sid = self._some_session(state)
        reason = self.data.draw(st.sampled_from(NotPerformedReason))
        return SessionNotPerformed(self.next_id("np"), self.when(), course_id, sid, reason)

    def prescribe(self, state: PatientState) -> Command:
        known = {p.course_id for p in state.prescriptions}
        course_id = self.data.draw(st.sampled_from(COURSES))
        if course_id in known and self.data.draw(st.booleans()):
            course_id = next((c for c in COURSES if c not in known), course_id)
        start = self.day + timedelta(days=self.data.draw(st.integers(-5, 40)))
        return PrescribeCourse(
            self.next_id("rx"),
            self.when(),
            course_id,
            self.data.draw(st.integers(14, 21)),  # 14 and 21: refused (R-COURSE-LENGTH)
            self.data.draw(st.sampled_from(Cadence)),
            start,
            self.data.draw(st.sampled_from([time(9), time(14, 30), None])),
        )

    def eligibility(self, _: PatientState) -> Command:
        occurred = self.when()
        since = BERLIN.local_date(occurred) - timedelta(days=self.data.draw(st.integers(0, 3)))
        blocks: tuple[Block, ...] = ()
        if self.data.draw(st.booleans()):
            rule = self.data.draw(st.sampled_from(RULES))
            length = self.data.draw(st.one_of(st.none(), st.integers(1, 20)))
            until = None if length is None else since + timedelta(days=length)
            blocks = (Block(rule=rule, since=since, until=until),)
            if rule == RuleId.POSTOP:  # a surgery: every later decision carries its block
                self.past_blocks.append(blocks[0])
        elif self.data.draw(st.booleans()) and self.past_blocks:
            pass  # the same history again: nothing changes but the version
        else:
            rule = self.data.draw(st.sampled_from(RULES))
            self.past_blocks.append(Block(rule=rule, since=since - timedelta(days=5), until=since))
        stale = self.version > 0 and self.data.draw(st.integers(0, 9)) == 0
        self.version += 0 if stale else 1
        return EligibilityChanged(
            self.next_id("el"),
            occurred,
            not blocks,
            None,
            blocks,
            self.version - 1 if stale else self.version,
            tuple(self.past_blocks),
        )

    def physical_therapy(self, state: PatientState) -> Command:
        planned = [s.on for p in state.published for s in p.sessions]
        day = self.data.draw(st.sampled_from(planned)) if planned else self.day
        starts = at(
            day, self.data.draw(st.integers(0, 17)), self.data.draw(st.sampled_from([5, 30]))
        )
        appointment = f"PT{self.data.draw(st.integers(1, 4))}"
        return PhysicalTherapyBooked(self.next_id("pt"), self.when(), appointment, starts)

    def profile(self, _: PatientState) -> Command:
        flags = self.data.draw(
            st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans())
        )
        return UpdateProfile(self.next_id("profile"), self.when(), *flags)

    def repeat(self, state: PatientState) -> Command:
        return self.data.draw(st.sampled_from(self.sent)) if self.sent else self.profile(state)

    def tick(self, _: PatientState) -> Command:
        return Tick(self.next_id("tick"), self.when())

    def cancel(self, state: PatientState) -> Command:
        if self.data.draw(st.integers(0, 3)):
            return self.prescribe(state)  # a cancellation ends the history: keep it rare
        if self.data.draw(st.booleans()):
            return SurgeryPerformed(self.next_id("surgery"), self.when(), self.day)
        return PatientWithdrawn(self.next_id("withdrawn"), self.when())


def assert_settled(state: PatientState, calendar: ClinicCalendar, policy: PlannerPolicy) -> None:
    """Planning every course again, on the basis the state was planned on, gives the status
    and open sessions last published."""
    if state.profile is None or state.planned_with != planning_basis(calendar, policy):
        return  # not planned yet, or a refused command left it as planned on another basis
    for course in project_courses(state, calendar, policy):
        published = state.published_course(course.course_id)
        assert published is not None
        assert published.status == course.status
        still_open = tuple(
            s for s in published.sessions if s.session_id not in course.completed_ids
        )
        assert still_open == course.plan


def assert_stored_alike(state: PatientState) -> None:
    """The state's JSON, as text or as dicts, is one format: a row written either way loads."""
    stored = state.to_json()
    assert json.loads(state.to_json_text()) == stored
    assert PatientState.from_json(stored) == state
    assert PatientState.from_json_text(json.dumps(stored)) == state


@SETTINGS
@given(st.data(), st.integers(5, 45), st.booleans())
def test_incremental_decide_gives_what_planning_every_course_again_gives(
    data: st.DataObject, steps: int, enrolled_first: bool
) -> None:
    """Now and then the clinic changes its calendar or policy between two commands, or a row
    stored before the basis was kept comes in: all is planned again, as a full plan would."""
    history = History(data)
    incremental = reference = PatientState()
    for step in range(steps):
        command = (
            history.enrolment() if enrolled_first and step == 0 else history.command(reference)
        )
        history.sent.append(command)
        today = history.day + timedelta(days=data.draw(st.integers(0, 200)))
        calendar, policy = data.draw(BASES)
        if data.draw(st.integers(0, 19)) == 0:
            incremental = reference = replace(reference, planned_with="")
        reference, expected = decide_replanning_all(reference, command, today, calendar, policy)
        incremental, outputs = decide(incremental, command, today, calendar, policy)
        assert outputs == expected
        assert incremental == reference
        assert_stored_alike(incremental)
        assert_settled(reference, calendar, policy)
