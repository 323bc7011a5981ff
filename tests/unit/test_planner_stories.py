"""The worked stories of DOMAIN.md at the planner core level."""

from datetime import date, time, timedelta
from itertools import pairwise

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.commands import (
    NotPerformedReason,
    PatientWithdrawn,
    SessionNotPerformed,
    SurgeryPerformed,
    Tick,
)
from services.planner.outputs import (
    ArmReminder,
    Cancelled,
    Completed,
    CourseRejected,
    CourseStatus,
    NextDue,
    Rescheduled,
    Resumed,
    ReviewFlag,
    Scheduled,
    Suspended,
)
from services.runtime.months import add_months
from tests.unit.test_planner_support import BERLIN, MONDAY, Harness, at


def flare_after_session_six(patient: Harness) -> date:
    patient.prescribe()
    patient.complete_next(6)
    flare_on = patient.plan()[0].on - timedelta(days=1)
    patient.eligibility(
        flare_on, eligible=False, blocks=(Block(rule=RuleId.FLARE, since=flare_on, until=None),)
    )
    return flare_on


def test_story_1_r_cadence_r_duration_ramp_every_other_day_from_a_monday() -> None:
    patient = Harness()
    (scheduled,) = patient.prescribe()
    assert isinstance(scheduled, Scheduled)
    assert scheduled.status is CourseStatus.ACTIVE
    assert {"R-CADENCE", "R-DURATION-RAMP", "R-COURSE-LENGTH"} <= set(scheduled.rules)
    days = [s.on for s in scheduled.sessions]
    assert len(days) == 15
    assert days[0] == MONDAY
    assert all(d.weekday() != 6 and BERLIN.is_open(d) for d in days)
    assert all((b - a).days >= 2 for a, b in pairwise(days))
    assert [s.duration_min for s in scheduled.sessions] == [
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        15,
        15,
        15,
        15,
        15,
        15,
    ]
    assert [s.number for s in scheduled.sessions] == list(range(1, 16))
    assert all(
        s.starts_at is not None and s.starts_at.time() == time(9) for s in scheduled.sessions
    )


def test_r_course_length_rejects_outside_15_to_20() -> None:
    patient = Harness()
    for sessions in (14, 21):
        (rejected,) = patient.prescribe(sessions=sessions)
        assert isinstance(rejected, CourseRejected)
        assert rejected.rules == ("R-COURSE-LENGTH",)
        assert "15 to 20" in rejected.reason
    assert patient.state.prescriptions == ()
    assert isinstance(patient.prescribe(sessions=20)[0], Scheduled)


def test_story_2_r_flare_suspends_and_r_remission_resumes_with_ramp_from_seven() -> None:
    patient = Harness()
    flare_on = flare_after_session_six(patient)
    suspended = patient.last(Suspended)
    assert isinstance(suspended, Suspended)
    assert suspended.status is CourseStatus.SUSPENDED
    assert suspended.rules == ("R-FLARE",)
    assert suspended.cancelled_session_ids == tuple(f"C1-s{n:02d}" for n in range(7, 16))
    assert suspended.sessions == ()
    assert suspended.completed_sessions == 6
    confirmed_on = flare_on + timedelta(days=10)
    (resumed,) = patient.eligibility(confirmed_on, eligible=True)
    assert isinstance(resumed, Resumed)
    assert resumed.status is CourseStatus.ACTIVE
    assert "R-REMISSION" in resumed.rules
    assert len(resumed.sessions) == 9
    assert resumed.sessions[0].on == BERLIN.next_open_after(confirmed_on)
    assert [s.duration_min for s in resumed.sessions] == [7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert [s.number for s in resumed.sessions] == list(range(7, 16))


def test_story_3_r_rheum_wait_resumes_a_month_after_the_exacerbation_ended() -> None:
    patient = Harness()
    flare_on = flare_after_session_six(patient)
    ended_on = flare_on + timedelta(days=8)
    wait_until = add_months(ended_on, 1)
    blocks = (Block(rule=RuleId.RHEUM_WAIT, since=ended_on + timedelta(days=1), until=wait_until),)
    (resumed,) = patient.eligibility(
        ended_on + timedelta(days=2), eligible=False, blocks=blocks, eligible_from=wait_until
    )
    assert isinstance(resumed, Resumed)
    assert resumed.sessions[0].on == BERLIN.next_open_on_or_after(wait_until)
    assert "R-RHEUM-WAIT" in resumed.rules
    # when the day comes and eligibility says so, nothing changes
    assert patient.eligibility(wait_until, eligible=True) == ()


def test_story_4_r_contra_fever_suspends_and_resolution_resumes() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(3)
    fever_on = patient.plan()[0].on
    (suspended,) = patient.eligibility(
        fever_on,
        eligible=False,
        blocks=(Block(rule=RuleId.CONTRA_FEVER, since=fever_on, until=None),),
    )
    assert isinstance(suspended, Suspended)
    assert suspended.rules == ("R-CONTRA-FEVER",)
    (resumed,) = patient.eligibility(fever_on + timedelta(days=3), eligible=True)
    assert isinstance(resumed, Resumed)
    assert resumed.sessions[0].on == BERLIN.next_open_after(fever_on + timedelta(days=3))
    assert resumed.sessions[0].duration_min == 7
    assert len(resumed.sessions) == 12


def test_story_5_r_postop_surgery_cancels_and_rehab_waits_for_day_14() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(5)
    surgery_on = patient.plan()[0].on
    (cancelled,) = patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on))
    assert isinstance(cancelled, Cancelled)
    assert cancelled.status is CourseStatus.CANCELLED
    assert cancelled.rules == ("R-POSTOP",)
    assert "surgery" in cancelled.reason
    assert cancelled.sessions == ()
    patient.eligibility(
        surgery_on,
        eligible=False,
        blocks=(Block(rule=RuleId.POSTOP, since=surgery_on, until=None),),
    )
    day_14 = surgery_on + timedelta(days=14)
    cleared_on = surgery_on + timedelta(days=5)
    patient.eligibility(
        cleared_on,
        eligible=False,
        blocks=(Block(rule=RuleId.POSTOP, since=surgery_on, until=day_14),),
        eligible_from=day_14,
    )
    (rehab,) = patient.prescribe(start=cleared_on, course_id="REHAB", prescribed_on=cleared_on)
    assert isinstance(rehab, Scheduled)
    assert rehab.status is CourseStatus.PENDING
    assert rehab.sessions[0].on >= day_14
    assert patient.course("C1").status is CourseStatus.CANCELLED
    (active,) = patient.eligibility(day_14, eligible=True)  # the status on the wire is current
    assert isinstance(active, Scheduled)
    assert (active.course_id, active.status) == ("REHAB", CourseStatus.ACTIVE)
    assert active.sessions == rehab.sessions


def test_story_6_r_course_break_and_r_courses_per_year() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(15)
    completed = patient.last(Completed)
    assert isinstance(completed, Completed)
    first, last = MONDAY, patient.course().last_session_on
    assert last is not None
    assert completed.next_course_earliest_on == BERLIN.next_open_on_or_after(add_months(last, 1))
    assert completed.next_course_due_by == add_months(first, 6)
    assert completed.rules == ("R-COURSES-PER-YEAR",)
    reminder = next(o for o in patient.outputs if isinstance(o, ArmReminder))
    assert reminder.fire_on == completed.next_course_due_by - timedelta(days=14)
    ten_days_later = last + timedelta(days=10)
    (scheduled,) = patient.prescribe(
        start=ten_days_later, course_id="C2", prescribed_on=ten_days_later
    )
    assert isinstance(scheduled, Scheduled)
    assert "R-COURSE-BREAK" in scheduled.rules
    assert scheduled.sessions[0].on == BERLIN.next_open_on_or_after(add_months(last, 1))
    assert patient.feed(Tick("tick", at(reminder.fire_on)), today=reminder.fire_on) == ()


def test_r_courses_per_year_next_due_reminder_only_without_a_new_course() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(15)
    reminder = next(o for o in patient.outputs if isinstance(o, ArmReminder))
    assert patient.feed(Tick("early", at(MONDAY)), today=reminder.fire_on - timedelta(days=1)) == ()
    (due,) = patient.feed(Tick("tick", at(reminder.fire_on)), today=reminder.fire_on)
    assert isinstance(due, NextDue)
    assert due.rules == ("R-COURSES-PER-YEAR",)
    assert due.version == patient.last(Completed).version + 1
    assert patient.feed(Tick("again", at(reminder.fire_on)), today=reminder.fire_on) == ()


def test_story_7_r_session_pain_moves_to_the_end_and_two_in_a_row_are_flagged() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(3)
    before = patient.plan()
    (moved,) = patient.not_performed(before[0], NotPerformedReason.SEVERE_PAIN)
    assert isinstance(moved, Rescheduled)
    assert "R-SESSION-PAIN" in moved.rules
    after = patient.plan()
    assert after[-1].session_id == "C1-s04"
    assert after[-1].on > before[-1].on
    assert [s.on for s in after[:-1]] == [s.on for s in before[1:]]
    assert len(after) == 12
    assert after[0].duration_min == 10  # the ramp counts performed sessions
    outputs = patient.not_performed(after[0], NotPerformedReason.DISCOMFORT)
    flags = [o for o in outputs if isinstance(o, ReviewFlag)]
    assert len(flags) == 1
    assert flags[0].session_ids == ("C1-s04", "C1-s05")
    assert flags[0].rules == ("R-SESSION-PAIN",)
    assert patient.course().completed_sessions + len(patient.plan()) == 15


def test_r_session_pain_absence_moves_to_the_end_without_a_flag() -> None:
    patient = Harness()
    patient.prescribe()
    for _ in range(2):
        outputs = patient.not_performed(patient.plan()[0], NotPerformedReason.PATIENT_ABSENT)
        assert not any(isinstance(o, ReviewFlag) for o in outputs)
    assert len(patient.plan()) == 15


def test_story_8_r_pt_before_massage_ends_when_physical_therapy_starts() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(5)
    session = patient.plan()[0]
    assert session.duration_min == 12
    (rescheduled,) = patient.physical_therapy(at(session.on, 10, 30))
    assert isinstance(rescheduled, Rescheduled)
    assert rescheduled.rules == ("R-PT-BEFORE",)
    assert rescheduled.sessions[0].starts_at == at(session.on, 10, 18)
    (change,) = rescheduled.changes
    assert change.session_id == session.session_id
    assert change.from_starts_at == at(session.on, 9)
    assert change.to_starts_at == at(session.on, 10, 18)


def test_story_10_the_same_event_twice_has_one_effect() -> None:
    patient = Harness()
    patient.prescribe()
    session = patient.plan()[0]
    first = patient.not_performed(session, NotPerformedReason.SEVERE_PAIN)
    command = patient.state.attempts[0]
    state = patient.state
    again = SessionNotPerformed(
        command.event_id, command.at, "C1", session.session_id, NotPerformedReason.SEVERE_PAIN
    )
    assert first
    assert patient.feed(again) == ()
    assert patient.state == state


def test_patient_withdrawn_cancels_the_course() -> None:
    patient = Harness()
    patient.prescribe()
    (cancelled,) = patient.feed(PatientWithdrawn("w", at(MONDAY, 12)))
    assert isinstance(cancelled, Cancelled)
    assert cancelled.reason == "patient withdrawn"


def test_story_9_like_late_completion_before_the_flare_counts_whatever_the_arrival_order() -> None:
    """R-FLARE: a session done before the flare but reported after it still counts."""
    in_order, late = Harness(), Harness()
    for patient in (in_order, late):
        patient.prescribe()
        patient.complete_next(5)
    sixth = in_order.plan()[0]
    flare = (Block(rule=RuleId.FLARE, since=sixth.on + timedelta(days=1), until=None),)
    in_order.complete(sixth)
    in_order.eligibility(sixth.on + timedelta(days=1), eligible=False, blocks=flare)
    late.eligibility(sixth.on + timedelta(days=1), eligible=False, blocks=flare)
    late.complete(sixth)
    assert late.course().completed_sessions == in_order.course().completed_sessions == 6
    assert late.course().status is in_order.course().status is CourseStatus.SUSPENDED
    for patient in (in_order, late):
        patient.eligibility(sixth.on + timedelta(days=9), eligible=True)
    assert late.plan() == in_order.plan()
    assert late.plan()[0].duration_min == 7


def test_story_9_a_flare_known_only_from_a_later_decision_plans_as_in_clinical_order() -> None:
    """The remission came first: the planner never saw the flare open, only its history."""
    in_order, late = Harness(), Harness()
    flare_on = flare_after_session_six(in_order)
    confirmed_on = flare_on + timedelta(days=10)
    in_order.eligibility(confirmed_on, eligible=True)
    late.prescribe()
    late.complete_next(6)
    flare = Block(rule=RuleId.FLARE, since=flare_on, until=confirmed_on + timedelta(days=1))
    (moved,) = late.eligibility(confirmed_on + timedelta(days=1), eligible=True, history=(flare,))
    assert isinstance(moved, Rescheduled)
    assert "R-FLARE" in late.course().rules
    assert late.plan() == in_order.plan()
    assert late.plan()[0].on == BERLIN.next_open_after(confirmed_on)
    assert [s.duration_min for s in late.plan()][:3] == [7, 8, 9]


def test_only_the_latest_decision_counts_whatever_came_before_it() -> None:
    fresh, seasoned = Harness(), Harness()
    for patient in (fresh, seasoned):
        patient.prescribe()
        patient.complete_next(3)
    first_day = fresh.plan()[0].on
    fever = Block(rule=RuleId.CONTRA_FEVER, since=first_day, until=first_day + timedelta(days=4))
    seasoned.eligibility(
        first_day, eligible=False, blocks=(Block(rule=RuleId.FLARE, since=first_day, until=None),)
    )
    seasoned.eligibility(first_day, eligible=False, blocks=(fever,), history=())
    fresh.eligibility(first_day, eligible=False, blocks=(fever,))
    assert seasoned.plan() == fresh.plan()
    assert seasoned.course().rules == fresh.course().rules


def test_r_flare_before_the_first_session_suspends_and_names_every_cancelled_session() -> None:
    patient = Harness()
    (scheduled,) = patient.prescribe(prescribed_on=MONDAY - timedelta(days=7))
    assert isinstance(scheduled, Scheduled)
    flare_on = MONDAY - timedelta(days=2)
    (suspended,) = patient.eligibility(
        flare_on, eligible=False, blocks=(Block(rule=RuleId.FLARE, since=flare_on, until=None),)
    )
    assert isinstance(suspended, Suspended)
    assert suspended.status is CourseStatus.SUSPENDED
    assert suspended.cancelled_session_ids == tuple(s.session_id for s in scheduled.sessions)
    assert suspended.completed_sessions == 0
    assert patient.feed(Tick(patient.next_id("tick"), at(flare_on, 13))) == ()  # stays quiet
    (resumed,) = patient.eligibility(flare_on + timedelta(days=5), eligible=True)
    assert isinstance(resumed, Resumed)
    assert len(resumed.sessions) == 15
    assert resumed.sessions[0].duration_min == 7
