"""Hypothesis properties of the planner core, checked along random clinical histories."""

from dataclasses import replace
from datetime import date, time, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.cadence import Cadence
from services.planner.commands import (
    Command,
    EligibilityChanged,
    NotPerformedReason,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
    UpdateProfile,
)
from services.planner.outputs import CourseStatus
from services.planner.pain import pain_streaks
from services.planner.state import PatientState
from services.runtime.months import add_months
from tests.unit.test_planner_support import BERLIN, Harness, at

STARTS = st.sampled_from(
    [date(2026, 11, 2), date(2026, 3, 23), date(2026, 10, 19), date(2026, 12, 21)]
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_invariants(
    patient: Harness, sessions: int, cadence: Cadence, preferred: time | None
) -> None:
    course = patient.course()
    plan = course.plan
    if course.status in {CourseStatus.COMPLETED, CourseStatus.CANCELLED} or not plan:
        return
    assert course.completed_sessions + len(plan) == sessions
    assert all(BERLIN.is_open(s.on) for s in plan)
    assert all((b.on - a.on) >= cadence.step for a, b in pairwise(plan))
    durations = [s.duration_min for s in plan]
    assert all(7 <= d <= 15 for d in durations)
    assert durations == sorted(durations)
    assert [s.number for s in plan] == list(range(course.completed_sessions + 1, sessions + 1))
    booked = {BERLIN.local_date(pt.starts_at) for pt in patient.state.physical_therapy}
    for session in plan:
        if preferred is not None and session.on not in booked:
            assert session.starts_at is not None
            assert BERLIN.local_wall_clock(session.starts_at).time() == preferred


def clinical_history(data: st.DataObject) -> tuple[Harness, list[Command], int, Cadence]:
    """Feeds a random history in clinical order, checking invariants after each step."""
    patient = Harness(state=PatientState())
    commands: list[Command] = []
    sessions = data.draw(st.integers(15, 20))
    cadence = data.draw(st.sampled_from(Cadence))
    preferred = data.draw(st.sampled_from([time(9), time(14, 30), None]))
    start = data.draw(STARTS) + timedelta(days=data.draw(st.integers(0, 6)))

    def feed(command: Command) -> None:
        commands.append(command)
        patient.feed(command)
        check_invariants(patient, sessions, cadence, preferred)

    enrolment = UpdateProfile("enrolment", at(start - timedelta(days=3), 8))
    commands.append(enrolment)
    patient.feed(enrolment)
    patient.prescribe(start=start, sessions=sessions, cadence=cadence, preferred=preferred)
    commands.append(_prescription_command(patient))
    flare_since: date | None = None
    past_flares: list[Block] = []  # a decision carries every block, past ones as history
    now = start
    for _ in range(data.draw(st.integers(0, 35))):
        plan = patient.plan()
        if patient.course().status in {CourseStatus.COMPLETED, CourseStatus.CANCELLED}:
            break
        if flare_since is not None or not plan:
            confirmed = now + timedelta(days=data.draw(st.integers(1, 12)))
            if flare_since is not None:  # R-REMISSION: the flare ends the day after
                past_flares.append(
                    Block(rule=RuleId.FLARE, since=flare_since, until=confirmed + timedelta(days=1))
                )
            version = patient.state.eligibility_version + 1
            history = tuple(past_flares)
            feed(
                EligibilityChanged(
                    patient.next_id("el"), at(confirmed, 12), True, None, (), version, history
                )
            )
            flare_since, now = None, confirmed
            continue
        action = data.draw(
            st.sampled_from(["done", "done", "done", "pain", "absent", "flare", "pt", "profile"])
        )
        session = plan[0]
        if action == "flare":
            flare_since = max(now, session.on - timedelta(days=data.draw(st.integers(0, 1))))
            version = patient.state.eligibility_version + 1
            block = (Block(rule=RuleId.FLARE, since=flare_since, until=None),)
            history = tuple(past_flares)
            feed(
                EligibilityChanged(
                    patient.next_id("el"), at(flare_since, 12), False, None, block, version, history
                )
            )
            now = flare_since
        elif action == "pt":
            starts = at(session.on, data.draw(st.integers(10, 17)), 30)
            feed(
                PhysicalTherapyBooked(patient.next_id("pt"), at(now, 8), f"PT{session.on}", starts)
            )
        elif action == "profile":
            flags = data.draw(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()))
            feed(UpdateProfile(patient.next_id("profile"), at(now, 8), *flags))
        else:
            count_before = len(patient.state.attempts)
            if action == "done":
                patient.complete(session)
            else:
                reason = (
                    NotPerformedReason.SEVERE_PAIN
                    if action == "pain"
                    else NotPerformedReason.PATIENT_ABSENT
                )
                patient.not_performed(session, reason)
            commands.extend(_attempt_commands(patient, count_before))
            check_invariants(patient, sessions, cadence, preferred)
            now = session.on
    return patient, commands, sessions, cadence


def _prescription_command(patient: Harness) -> Command:
    rx = patient.state.prescriptions[0]
    return PrescribeCourse(
        rx.event_id,
        rx.prescribed_at,
        rx.course_id,
        rx.sessions,
        rx.cadence,
        rx.start_on,
        rx.preferred_time,
    )


def _attempt_commands(patient: Harness, count_before: int) -> list[Command]:
    new = [a for a in patient.state.attempts if a.event_id.startswith(("done", "np"))][
        count_before:
    ]
    latest = max(new, key=lambda a: int(a.event_id.split("-")[1]))
    if latest.reason is None:
        return [
            SessionCompleted(
                latest.event_id, latest.at, latest.course_id, latest.session_id, latest.at
            )
        ]
    return [
        SessionNotPerformed(
            latest.event_id, latest.at, latest.course_id, latest.session_id, latest.reason
        )
    ]


@SETTINGS
@given(st.data())
def test_r_cadence_r_duration_ramp_r_session_pain_invariants_along_any_history(
    data: st.DataObject,
) -> None:
    """No session on a closed day, gaps per cadence, ramp 7..15 never dropping within a run,
    exactly the prescribed number done + planned whatever the outcomes, wall clock kept."""
    patient, _, sessions, _ = clinical_history(data)
    course = patient.course()
    if course.status is CourseStatus.COMPLETED:
        assert course.completed_sessions == sessions


@SETTINGS
@given(st.data())
def test_r_flare_r_remission_any_interleaving_of_the_two_topics_gives_the_same_plan(
    data: st.DataObject,
) -> None:
    """Two topics, one truth: clinic events shuffled (the enrolment and the prescription
    anywhere too), eligibility kept in version order; nothing is published before the
    enrolment has arrived."""
    patient, commands, _, _ = clinical_history(data)
    clinic = [c for c in commands if not isinstance(c, EligibilityChanged)]
    eligibility = [c for c in commands if isinstance(c, EligibilityChanged)]
    shuffled = data.draw(st.permutations(clinic))
    positions = sorted(
        data.draw(
            st.lists(
                st.integers(0, len(commands)), min_size=len(eligibility), max_size=len(eligibility)
            )
        )
    )
    interleaved: list[Command] = list(shuffled)
    for offset, (position, decision) in enumerate(zip(positions, eligibility, strict=True)):
        interleaved.insert(position + offset, decision)
    replay = Harness(state=PatientState())
    for command in interleaved:
        outputs = replay.feed(command, today=date(2026, 1, 1))
        assert replay.state.profile is not None or outputs == ()
    assert replace(replay.course(), version=0) == replace(patient.course(), version=0)
    # A flag raised before a late completion arrived is not withdrawn; the streaks that
    # hold on the final facts are the same.
    assert {key for key, _ in pain_streaks(replay.state)} == set(patient.state.flagged_streaks)


@SETTINGS
@given(st.sampled_from(Cadence), st.integers(15, 20), st.integers(-40, 60), STARTS)
def test_r_course_break_at_least_one_calendar_month(
    cadence: Cadence, sessions: int, offset: int, start: date
) -> None:
    patient = Harness()
    patient.prescribe(start=start, sessions=sessions, cadence=cadence)
    patient.complete_next(sessions)
    last = patient.course().last_session_on
    assert last is not None
    requested = last + timedelta(days=offset)
    patient.prescribe(start=requested, course_id="C2", prescribed_on=last + timedelta(days=1))
    first = patient.plan("C2")[0].on
    assert first >= add_months(last, 1)
    assert first == BERLIN.next_open_on_or_after(max(requested, add_months(last, 1)))
    assert ("R-COURSE-BREAK" in patient.course("C2").rules) == (requested < add_months(last, 1))
