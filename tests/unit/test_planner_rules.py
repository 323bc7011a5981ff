"""Eligibility-driven planning, session notes and the stored state."""

import json
from datetime import date, timedelta

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.commands import EligibilityChanged, NotPerformedReason, UpdateProfile
from services.planner.notes import NEARBY_MUSCLES
from services.planner.outputs import CourseStatus, Rescheduled, Scheduled, Suspended
from services.planner.state import PatientState
from tests.unit.test_planner_support import BERLIN, MONDAY, Harness, at


def test_prescription_while_not_eligible_waits_pending_without_dates() -> None:
    patient = Harness()
    flare_on = MONDAY - timedelta(days=1)  # a day before the prescription: it waits
    patient.eligibility(
        flare_on, eligible=False, blocks=(Block(rule=RuleId.FLARE, since=flare_on, until=None),)
    )
    (scheduled,) = patient.prescribe()
    assert isinstance(scheduled, Scheduled)
    assert scheduled.status is CourseStatus.PENDING
    assert scheduled.sessions == ()
    assert "R-FLARE" in scheduled.rules
    confirmed = MONDAY + timedelta(days=5)
    (planned,) = patient.eligibility(confirmed, eligible=True)
    assert isinstance(planned, Scheduled)
    assert isinstance(planned, Scheduled)
    assert planned.status is CourseStatus.ACTIVE
    assert planned.sessions[0].on == BERLIN.next_open_after(confirmed)
    assert planned.sessions[0].duration_min == 7


def test_r_postop_known_eligible_from_plans_at_once_and_turns_active_on_the_day() -> None:
    patient = Harness()
    day_14 = MONDAY + timedelta(days=14)
    blocks = (Block(rule=RuleId.POSTOP, since=MONDAY, until=day_14),)
    patient.eligibility(MONDAY, eligible=False, blocks=blocks, eligible_from=day_14)
    (scheduled,) = patient.prescribe(prescribed_on=MONDAY + timedelta(days=1))
    assert isinstance(scheduled, Scheduled)
    assert scheduled.status is CourseStatus.PENDING
    assert scheduled.sessions[0].on == BERLIN.next_open_on_or_after(day_14)
    (active,) = patient.eligibility(day_14, eligible=True)  # the status on the wire is current
    assert isinstance(active, Scheduled)
    assert (active.status, active.sessions) == (CourseStatus.ACTIVE, scheduled.sessions)
    assert patient.course().plan == scheduled.sessions


def test_stale_eligibility_version_is_ignored() -> None:
    patient = Harness()
    patient.prescribe()
    patient.eligibility(MONDAY, eligible=True)
    state = patient.state
    stale = EligibilityChanged(
        "old", at(MONDAY), False, None, (Block(rule=RuleId.FLARE, since=MONDAY, until=None),), 1
    )
    assert patient.feed(stale) == ()
    assert patient.state == state


def test_r_no_knee_when_painful_r_hemodynamics_r_in_water_and_r_sequence_notes() -> None:
    patient = Harness()
    patient.prescribe()
    (rescheduled,) = patient.feed(UpdateProfile("p1", at(MONDAY, 7), False, True, True, True))
    assert isinstance(rescheduled, Rescheduled)
    assert rescheduled.changes == ()
    session = rescheduled.sessions[0]
    assert session.notes == ("R-NO-KNEE-WHEN-PAINFUL", "R-HEMODYNAMICS", "R-IN-WATER")
    assert session.sequence[0].startswith("lower back")
    assert session.sequence[2] == NEARBY_MUSCLES
    assert session.sequence[-1] == "conclusion: stroking and shaking"
    assert "R-SEQUENCE" in rescheduled.rules
    # an older profile arriving late does not win
    assert patient.feed(UpdateProfile("p0", at(MONDAY - timedelta(days=30)))) == ()


def test_plain_profile_r_sequence_includes_the_knee() -> None:
    patient = Harness()
    (scheduled,) = patient.prescribe()
    assert isinstance(scheduled, Scheduled)
    assert scheduled.sessions[0].notes == ()
    assert scheduled.sessions[0].sequence[2] == "main part at the knee"


def test_completion_as_planned_publishes_nothing() -> None:
    patient = Harness()
    patient.prescribe()
    assert patient.complete(patient.plan()[0]) == ()
    assert patient.course().completed_sessions == 1


def test_late_completion_shifts_the_cadence_from_the_day_it_happened() -> None:
    """R-CADENCE: the cadence continues from the day a session actually fell on."""
    patient = Harness()
    patient.prescribe()
    first = patient.plan()[0]
    moved = first.__class__(
        **{**{f: getattr(first, f) for f in first.__slots__}, "on": date(2026, 11, 3)}
    )
    (rescheduled,) = patient.complete(moved)
    assert isinstance(rescheduled, Rescheduled)
    assert patient.plan()[0].on == date(2026, 11, 5)


def test_state_round_trips_through_json() -> None:
    patient = Harness()
    patient.feed(UpdateProfile("p1", at(MONDAY, 7), True, True, False, True))
    patient.prescribe()
    patient.complete_next(2)
    patient.not_performed(patient.plan()[0], NotPerformedReason.SEVERE_PAIN)
    patient.eligibility(
        MONDAY + timedelta(days=9),
        eligible=False,
        blocks=(Block(rule=RuleId.FLARE, since=MONDAY, until=None),),
    )
    stored = json.loads(json.dumps(patient.state.to_json()))
    assert PatientState.from_json(stored) == patient.state
    assert PatientState.from_json(stored).to_json() == stored
    assert PatientState.from_json(PatientState().to_json()) == PatientState()


def test_r_contra_bleeding_inflammation_thrombosis_fever_each_suspend_with_their_rule() -> None:
    """R-CONTRA-BLEEDING, R-CONTRA-INFLAMMATION, R-CONTRA-THROMBOSIS, R-CONTRA-FEVER."""
    rules = ("R-CONTRA-BLEEDING", "R-CONTRA-INFLAMMATION", "R-CONTRA-THROMBOSIS", "R-CONTRA-FEVER")
    for rule in rules:
        patient = Harness()
        patient.prescribe()
        patient.complete_next(2)
        day = patient.plan()[0].on
        (suspended,) = patient.eligibility(
            day, eligible=False, blocks=(Block(rule=RuleId(rule), since=day, until=None),)
        )
        assert isinstance(suspended, Suspended)
        assert suspended.status is CourseStatus.SUSPENDED
        assert suspended.rules == (rule,)
        assert suspended.completed_sessions == 2
