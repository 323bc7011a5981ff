"""Every notice kind, read as staff read it: rule IDs and dates, nothing but the patient id."""

from copy import deepcopy
from datetime import date
from typing import Any

import pytest

from schemas.codec import new_event
from schemas.eligibility import EligibilityDecidedData
from schemas.examples import EXAMPLES
from schemas.schedule import CourseData
from services.notifier.decision_notices import PatientMemory, decision_notices
from services.notifier.kinds import Kind
from services.notifier.notice import MAX_SUMMARY
from services.notifier.schedule_notices import schedule_notice

P = "P-000123"


def course_data(event_type: str, **changes: Any) -> CourseData:
    example = deepcopy(dict(EXAMPLES[f"courseflow.course.{event_type}"]))
    example["data"] = {**example["data"], **changes}
    event = new_event(example["type"], source="/t", subject=P, data=example["data"],
                      time=example["time"])  # fmt: skip
    assert isinstance(event.data, CourseData)
    return event.data


def decided(
    version: int, *, eligible: bool, blocks: Any = (), restrictions: Any = (), **extra: Any
) -> Any:
    return EligibilityDecidedData.model_validate(
        {"eligible": eligible, "eligible_from": None, "blocks": list(blocks),
         "restrictions": list(restrictions), "version": version, **extra}, strict=False,
    )  # fmt: skip


POSTOP = {"rule": "R-POSTOP", "since": date(2026, 3, 4), "until": date(2026, 3, 18)}


def test_course_scheduled_names_the_span_of_sessions() -> None:
    notice = schedule_notice("e1", P, course_data("scheduled", status="active", rules=[]))
    assert notice.kind is Kind.COURSE_SCHEDULED
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 scheduled: 2 sessions 2026-11-23..2026-11-25"
    )


def test_course_pending_says_not_eligible_yet_with_rules() -> None:
    data = course_data("scheduled", status="pending", rules=["R-FLARE"])
    notice = schedule_notice("e1", P, data)
    assert notice.kind is Kind.COURSE_PENDING
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 pending: not eligible yet, "
        "2 sessions 2026-11-23..2026-11-25 (R-FLARE)"
    )


def test_course_suspended_lists_the_cancelled_sessions() -> None:
    notice = schedule_notice("e1", P, course_data("suspended"))
    assert notice.kind is Kind.COURSE_SUSPENDED
    assert "suspended after 6 completed; 2 sessions cancelled: C-2026-0042-s7, C-2026-0042-s8" in (
        notice.summary
    )
    assert notice.summary.endswith("(R-FLARE)")


def test_course_resumed_gives_the_new_dates() -> None:
    notice = schedule_notice("e1", P, course_data("resumed", rules=["R-REMISSION"]))
    assert notice.kind is Kind.COURSE_RESUMED
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 resumed: 2 sessions 2026-11-23..2026-11-25 "
        "(R-REMISSION)"
    )


def test_sessions_rescheduled_lists_each_move() -> None:
    notice = schedule_notice("e1", P, course_data("rescheduled"))
    assert notice.kind is Kind.SESSIONS_RESCHEDULED
    assert "1 session moved: C-2026-0042-s7 2026-11-23->2026-11-23, start times changed" in (
        notice.summary
    )
    assert notice.summary.endswith("(R-PT-BEFORE)")


def test_a_plan_taken_away_before_it_started_says_on_hold_not_zero_moves() -> None:
    data = course_data("rescheduled", status="pending", sessions=[], changes=[], rules=["R-FLARE"])
    notice = schedule_notice("e1", P, data)
    assert notice.kind is Kind.SESSIONS_RESCHEDULED
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 on hold: no sessions planned until eligible "
        "again (R-FLARE)"
    )


def test_course_completed_gives_the_next_course_window() -> None:
    notice = schedule_notice("e1", P, course_data("completed"))
    assert notice.kind is Kind.COURSE_COMPLETED
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 completed after 15 sessions; next course from "
        "2027-01-11, due by 2027-05-23 (R-COURSE-BREAK, R-COURSES-PER-YEAR)"
    )


def test_course_cancelled_names_the_r_course_break_when_a_session_was_performed() -> None:
    notice = schedule_notice(
        "e1", P, course_data("cancelled", next_course_earliest_on="2027-01-11")
    )
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 cancelled (surgery) after 6 completed sessions; "
        "next course not before 2027-01-11 (R-COURSE-BREAK, R-POSTOP)"
    )


def test_course_cancelled_gives_the_reason() -> None:
    notice = schedule_notice("e1", P, course_data("cancelled"))
    assert notice.kind is Kind.COURSE_CANCELLED
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042 cancelled (surgery) after 6 completed sessions "
        "(R-POSTOP)"
    )


def test_next_course_due_names_r_courses_per_year_and_the_dates() -> None:
    notice = schedule_notice("e1", P, course_data("next_due"))
    assert notice.kind is Kind.NEXT_COURSE_DUE
    assert notice.summary == (
        "Patient P-000123: next course due by 2027-05-23 (not before 2027-01-11) and none "
        "prescribed after course C-2026-0042 (R-COURSES-PER-YEAR)"
    )


def test_repeated_pain_review_names_r_session_pain_and_the_sessions() -> None:
    notice = schedule_notice("e1", P, course_data("review_requested"))
    assert notice.kind is Kind.REPEATED_PAIN_REVIEW
    assert notice.summary == (
        "Patient P-000123: course C-2026-0042: sessions C-2026-0042-s4, C-2026-0042-s5 not "
        "performed in a row for pain or discomfort; please review (R-SESSION-PAIN)"
    )


def test_rehab_course_eligible_after_r_postop_block_ends() -> None:
    memory, first = decision_notices(PatientMemory(), "d1", P, decided(1, eligible=False,
                                     blocks=[POSTOP]), date(2026, 3, 4))  # fmt: skip
    assert first == []
    _, notices = decision_notices(memory, "d2", P, decided(2, eligible=True), date(2026, 3, 18))
    assert [n.kind for n in notices] == [Kind.REHAB_COURSE_ELIGIBLE]
    assert notices[0].summary == (
        "Patient P-000123: eligible for a rehabilitation massage course from 2026-03-18 after "
        "knee surgery; a course may be prescribed (R-POSTOP)"
    )


def test_surgical_evaluation_advised_for_r_advanced_stage() -> None:
    _, notices = decision_notices(
        PatientMemory(), "d1", P,
        decided(1, eligible=True, restrictions=["surgical_evaluation_advised"]), date(2026, 3, 2),
    )  # fmt: skip
    assert [n.kind for n in notices] == [Kind.SURGICAL_EVALUATION_ADVISED]
    assert notices[0].summary == (
        "Patient P-000123: advanced arthrosis (stage 3 or 4): surgical evaluation advised; "
        "massage stays allowed (R-ADVANCED-STAGE)"
    )


@pytest.mark.parametrize("event_type", ["suspended", "rescheduled", "review_requested"])
def test_long_lists_are_capped_to_one_line_and_keep_their_rules(event_type: str) -> None:
    many = [f"S-{'x' * 40}-{n}" for n in range(40)]
    changes: dict[str, Any] = {
        "suspended": {"cancelled_session_ids": many},
        "review_requested": {"session_ids": many},
        "rescheduled": {},
    }[event_type]
    notice = schedule_notice("e1", P, course_data(event_type, **changes))
    assert len(notice.summary) <= MAX_SUMMARY
    assert "\n" not in notice.summary
    assert notice.summary.endswith(")")
