"""Course status on the wire and clinical time (DOMAIN.md): issue 12, items 3, 4, 5 and 10.

A block that begins on or after the prescription's day suspends the course; only a course
prescribed on a later day waits as pending. The latest event of a course carries its current
status. No session is planned before the day the plan is made. A course id names one
prescription.
"""

from dataclasses import replace
from datetime import time, timedelta

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.cadence import Cadence
from services.planner.commands import PrescribeCourse
from services.planner.outputs import (
    CourseEvent,
    CourseStatus,
    Output,
    Resumed,
    Scheduled,
    Suspended,
)
from services.planner.screening import screen
from services.runtime.months import add_months
from tests.unit.test_planner_support import BERLIN, MONDAY, ONE, Harness, at


def only(outputs: tuple[Output, ...]) -> CourseEvent:
    """The one schedule event a command gave."""
    (event,) = outputs
    assert isinstance(event, CourseEvent)
    return event


def test_r_flare_starting_on_the_prescription_day_suspends_naming_every_cancelled_session() -> None:
    patient = Harness()
    prescribed_on = MONDAY - timedelta(days=4)
    scheduled = only(patient.prescribe(prescribed_on=prescribed_on))
    flare = (Block(rule=RuleId.FLARE, since=prescribed_on, until=None),)
    suspended = only(patient.eligibility(prescribed_on, eligible=False, blocks=flare))
    assert isinstance(suspended, Suspended)
    assert suspended.status is CourseStatus.SUSPENDED
    assert suspended.sessions == ()
    assert suspended.cancelled_session_ids == tuple(s.session_id for s in scheduled.sessions)
    resumed = only(patient.eligibility(prescribed_on + timedelta(days=6), eligible=True))
    assert isinstance(resumed, Resumed)
    assert resumed.status is CourseStatus.ACTIVE
    assert len(resumed.sessions) == 15


def test_r_flare_known_first_on_the_prescription_day_gives_the_same_status() -> None:
    """Clinical dates decide, not arrival: the flare's decision before the prescription."""
    in_order, decision_first = Harness(), Harness()
    prescribed_on = MONDAY - timedelta(days=4)
    flare = (Block(rule=RuleId.FLARE, since=prescribed_on, until=None),)
    in_order.prescribe(prescribed_on=prescribed_on)
    in_order.eligibility(prescribed_on, eligible=False, blocks=flare)
    decision_first.eligibility(prescribed_on, eligible=False, blocks=flare)
    first = only(decision_first.prescribe(prescribed_on=prescribed_on))
    assert first.status is CourseStatus.SUSPENDED
    assert decision_first.course().status is in_order.course().status
    for patient in (in_order, decision_first):
        patient.eligibility(prescribed_on + timedelta(days=6), eligible=True)
    assert decision_first.plan() == in_order.plan()
    assert decision_first.course().status is CourseStatus.ACTIVE


def test_r_flare_before_the_prescription_day_leaves_the_course_pending() -> None:
    patient = Harness()
    prescribed_on = MONDAY - timedelta(days=4)
    flare = (Block(rule=RuleId.FLARE, since=prescribed_on - ONE, until=None),)
    patient.eligibility(prescribed_on - ONE, eligible=False, blocks=flare)
    scheduled = only(patient.prescribe(prescribed_on=prescribed_on))
    assert isinstance(scheduled, Scheduled)
    assert (scheduled.status, scheduled.sessions) == (CourseStatus.PENDING, ())


def test_r_postop_a_dated_pending_course_says_it_is_active_on_its_known_day() -> None:
    patient = Harness()
    day_14 = MONDAY + timedelta(days=14)
    blocks = (Block(rule=RuleId.POSTOP, since=MONDAY, until=day_14),)
    patient.eligibility(MONDAY, eligible=False, blocks=blocks, eligible_from=day_14)
    pending = only(patient.prescribe(prescribed_on=MONDAY + ONE))
    assert pending.status is CourseStatus.PENDING
    assert pending.sessions
    active = only(patient.eligibility(day_14, eligible=True))
    assert isinstance(active, Scheduled)
    assert active.status is CourseStatus.ACTIVE
    assert active.sessions == pending.sessions
    assert active.version == pending.version + 1
    assert patient.course().status is CourseStatus.ACTIVE


def test_r_rheum_wait_a_suspended_course_not_yet_started_resumes_as_active() -> None:
    """The course was under way (prescribed before the flare): it is suspended, then resumed
    with its known dates, and its status says active, not pending, from then on."""
    patient = Harness()
    prescribed_on = MONDAY - timedelta(days=4)
    patient.prescribe(prescribed_on=prescribed_on)
    flare_on = prescribed_on + ONE
    patient.eligibility(
        flare_on, eligible=False, blocks=(Block(rule=RuleId.FLARE, since=flare_on, until=None),)
    )
    ended_on = flare_on + timedelta(days=5)
    wait_until = add_months(ended_on, 1)
    wait = (Block(rule=RuleId.RHEUM_WAIT, since=ended_on + ONE, until=wait_until),)
    resumed = only(
        patient.eligibility(ended_on + ONE, eligible=False, blocks=wait, eligible_from=wait_until)
    )
    assert isinstance(resumed, Resumed)
    assert resumed.status is CourseStatus.ACTIVE
    assert resumed.sessions[0].on == BERLIN.next_open_on_or_after(wait_until)
    assert patient.eligibility(wait_until, eligible=True) == ()


def test_r_cadence_a_start_on_weeks_ago_starts_on_the_day_the_plan_is_made() -> None:
    patient = Harness()
    scheduled = only(patient.prescribe(start=MONDAY - timedelta(days=21), prescribed_on=MONDAY))
    assert isinstance(scheduled, Scheduled)
    assert scheduled.status is CourseStatus.ACTIVE
    assert scheduled.sessions[0].on == MONDAY
    assert all(s.on >= MONDAY for s in scheduled.sessions)
    assert [s.duration_min for s in scheduled.sessions][:3] == [7, 8, 9]


def test_r_cadence_a_start_on_in_the_past_prescribed_on_a_sunday_starts_the_next_open_day() -> None:
    patient = Harness()
    sunday = MONDAY - ONE
    scheduled = only(patient.prescribe(start=sunday - timedelta(days=10), prescribed_on=sunday))
    assert scheduled.sessions[0].on == MONDAY


def test_r_remission_a_resumption_never_goes_before_the_day_the_course_was_prescribed() -> None:
    """A block over before the prescription (its history) moves nothing into the past."""
    patient = Harness()
    flare = Block(
        rule=RuleId.FLARE, since=MONDAY - timedelta(days=30), until=MONDAY - timedelta(days=20)
    )
    patient.eligibility(MONDAY - timedelta(days=2), eligible=True, history=(flare,))
    scheduled = only(patient.prescribe(start=MONDAY - timedelta(days=28), prescribed_on=MONDAY))
    assert scheduled.sessions[0].on == MONDAY


FIRST = PrescribeCourse(
    "rx-1", at(MONDAY - timedelta(days=3)), "C1", 15, Cadence.EVERY_OTHER_DAY, MONDAY, time(9)
)


def test_one_prescription_per_course_id_the_same_terms_sent_again_are_a_duplicate() -> None:
    patient = Harness()
    patient.feed(FIRST)
    later = at(MONDAY - timedelta(days=1))
    verdict = screen(patient.state, replace(FIRST, event_id="rx-2", occurred_at=later))
    assert verdict.repeated
    assert verdict.rejection is None


def test_one_prescription_per_course_id_other_terms_are_rejected_naming_the_rule() -> None:
    patient = Harness()
    patient.feed(FIRST)
    others = [
        replace(FIRST, event_id="rx-2", sessions=17),
        replace(FIRST, event_id="rx-2", cadence=Cadence.DAILY),
        replace(FIRST, event_id="rx-2", start_on=MONDAY + timedelta(days=7)),
        replace(FIRST, event_id="rx-2", preferred_time=time(14, 30)),
        replace(FIRST, event_id="rx-2", preferred_time=None),
    ]
    for other in others:
        verdict = screen(patient.state, other)
        assert verdict.rejection is not None
        assert not verdict.repeated
        assert "course_id names one prescription" in verdict.rejection
        assert "\n" not in verdict.rejection
        for value in ("17", "daily", (MONDAY + timedelta(days=7)).isoformat(), "14:30", "C1"):
            assert value not in verdict.rejection
    assert screen(patient.state, replace(FIRST, event_id="rx-3", course_id="C2")).rejection is None
