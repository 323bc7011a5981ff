"""DOMAIN.md "Clinical time": a prescription (or any fact) before the enrolment is kept as
pending input and planned once the patient is enrolled, exactly as in clinical order."""

from datetime import timedelta

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.cadence import Cadence
from services.planner.commands import EligibilityChanged, PrescribeCourse, UpdateProfile
from services.planner.outputs import CourseStatus, Scheduled
from services.planner.state import PatientState
from tests.unit.test_planner_support import MONDAY, Harness, at

FLARE_SINCE = MONDAY - timedelta(days=4)


def prescription(prescribed_on=MONDAY) -> PrescribeCourse:
    return PrescribeCourse(
        "rx", at(prescribed_on, 8), "C1", 15, Cadence.EVERY_OTHER_DAY, MONDAY, None
    )


def enrolment(on=MONDAY - timedelta(days=2)) -> UpdateProfile:
    return UpdateProfile("enrolled", at(on, 8), knee_painful_on_palpation=True)


def flare_decision() -> EligibilityChanged:
    blocks = (Block(rule=RuleId.FLARE, since=FLARE_SINCE, until=None),)
    return EligibilityChanged("el-1", at(MONDAY - timedelta(days=2), 12), False, None, blocks, 1)


def test_r_cadence_a_prescription_before_the_enrolment_is_kept_and_planned_once_enrolled():
    patient = Harness(state=PatientState())
    assert patient.feed(prescription()) == ()
    assert [p.course_id for p in patient.state.prescriptions] == ["C1"]
    (scheduled,) = patient.feed(enrolment())
    assert isinstance(scheduled, Scheduled)
    assert scheduled.status is CourseStatus.ACTIVE
    assert len(scheduled.sessions) == 15
    assert all(s.notes == ("R-NO-KNEE-WHEN-PAINFUL",) for s in scheduled.sessions)


def test_r_flare_story_13_a_course_prescribed_before_the_enrolment_waits_once_enrolled():
    """The flare's decision and the prescription come first; the enrolment last."""
    early = Harness(state=PatientState())
    assert early.feed(prescription()) == ()
    assert early.feed(flare_decision()) == ()
    (late_outcome,) = early.feed(enrolment())
    in_order = Harness(state=PatientState())
    in_order.feed(enrolment())
    in_order.feed(flare_decision())
    (in_order_outcome,) = in_order.feed(prescription())
    assert isinstance(late_outcome, Scheduled)
    assert late_outcome.status is CourseStatus.PENDING
    assert late_outcome.sessions == ()
    assert late_outcome == in_order_outcome
    assert early.state == in_order.state
