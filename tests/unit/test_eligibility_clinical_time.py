"""DOMAIN.md "Clinical time": profile facts are dated (R-RHEUM-WAIT)."""

from datetime import UTC, date, datetime

from schemas.clinic import PatientEnrolled
from schemas.codec import new_event
from schemas.eligibility import Block
from schemas.rules import RuleId
from services.eligibility.engine import evaluate
from services.eligibility.policy import DEFAULT_POLICY
from services.eligibility.rules import day_after
from services.eligibility.translate import to_fact
from services.runtime.months import add_months
from tests.unit.test_eligibility_builders import day, flare, profile, remission, timeline_of


def wait_after(ended_on: date) -> Block:
    return Block(rule=RuleId.RHEUM_WAIT, since=day_after(ended_on), until=add_months(ended_on, 1))


def test_r_rheum_wait_is_not_lifted_by_a_profile_update():
    """Enrolled rheumatic, flare, remission, enrolment re-sent without the flag."""
    facts = (
        profile(day(-5), rheumatic_inflammation=True, event_id="enrolled"),
        flare(day(0)),
        remission(day(10)),
        profile(day(12), rheumatic_inflammation=False, event_id="re-sent"),
    )
    decision = evaluate(timeline_of(*facts), day(12), DEFAULT_POLICY)
    assert not decision.eligible
    assert decision.eligible_from == add_months(day(10), 1)
    assert decision.blocks == (wait_after(day(10)),)


def test_r_rheum_wait_counts_a_flag_in_force_on_any_day_of_the_exacerbation():
    facts = (
        profile(day(-5), event_id="plain"),
        profile(day(3), rheumatic_inflammation=True, event_id="flagged"),
        profile(day(8), event_id="unflagged"),
        flare(day(0)),
        remission(day(10)),
    )
    assert evaluate(timeline_of(*facts), day(20), DEFAULT_POLICY).blocks == (wait_after(day(10)),)


def test_r_rheum_wait_is_not_begun_by_a_flag_added_after_the_wait_would_have_begun():
    """The profile in force on the dates the rule concerns, not the latest one."""
    facts = (
        profile(day(-5), event_id="plain"),
        flare(day(0)),
        remission(day(10)),
        profile(day(20), rheumatic_inflammation=True, event_id="flagged-later"),
    )
    decision = evaluate(timeline_of(*facts), day(20), DEFAULT_POLICY)
    assert decision.eligible
    assert decision.blocks == ()


def test_r_rheum_wait_before_the_enrolment_reads_the_enrolment_profile():
    """A flare older than the enrolment: the enrolment describes the patient it concerned."""
    facts = (
        flare(day(0)),
        remission(day(10)),
        profile(day(15), rheumatic_inflammation=True, event_id="enrolled-late"),
    )
    assert evaluate(timeline_of(*facts), day(15), DEFAULT_POLICY).blocks == (wait_after(day(10)),)


def test_r_rheum_wait_enrolment_is_dated_by_the_clinic_local_date_of_its_time():
    """23:30 UTC on 2 March is already 3 March in Berlin: that is its clinical date."""
    event = new_event(
        PatientEnrolled,
        source="/clinics/north/emr",
        subject="P-1",
        time=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
        data={"clinic_id": "north", "arthrosis_stage": 1, "affected_knees": ["left"]},
    )
    fact = to_fact(event, "Europe/Berlin")
    assert fact is not None
    assert fact.clinical_on == date(2026, 3, 3)
