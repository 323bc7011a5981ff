"""What the notifier remembers per patient: R-POSTOP and R-ADVANCED-STAGE notices once."""

from datetime import date

from services.notifier.decision_notices import (
    PatientMemory,
    decision_notices,
    remember_course_break,
)
from services.notifier.kinds import Kind
from tests.unit.test_notifier_summaries import POSTOP, P, course_data, decided

DAY = date(2026, 3, 2)
ADVISED = ["surgical_evaluation_advised"]
FEVER = {"rule": "R-CONTRA-FEVER", "since": DAY, "until": None}


def kinds_over(*decisions: object) -> list[list[Kind]]:
    memory, seen = PatientMemory(), []
    for n, data in enumerate(decisions, start=1):
        memory, notices = decision_notices(memory, f"d{n}", P, data, DAY)  # type: ignore[arg-type]
        seen.append([notice.kind for notice in notices])
    return seen


def test_r_postop_rehab_notice_survives_another_block_in_between() -> None:
    assert kinds_over(
        decided(1, eligible=False, blocks=[POSTOP]),
        decided(2, eligible=False, blocks=[FEVER]),
        decided(3, eligible=True),
        decided(4, eligible=True, restrictions=["in_water"]),
    ) == [[], [], [Kind.REHAB_COURSE_ELIGIBLE], []]


def test_eligible_without_prior_r_postop_is_no_rehab_notice() -> None:
    assert kinds_over(decided(1, eligible=True), decided(2, eligible=True)) == [[], []]


def test_r_advanced_stage_without_a_stage_on_the_decision_once_until_it_disappears() -> None:
    """Decisions published before they named the stage (replays) keep the old memory."""
    assert kinds_over(
        decided(1, eligible=True, restrictions=ADVISED),
        decided(2, eligible=False, blocks=[FEVER], restrictions=ADVISED),
        decided(3, eligible=True),
        decided(4, eligible=True, restrictions=ADVISED),
    ) == [[Kind.SURGICAL_EVALUATION_ADVISED], [], [], [Kind.SURGICAL_EVALUATION_ADVISED]]


def test_a_stale_decision_changes_nothing() -> None:
    memory, _ = decision_notices(PatientMemory(), "d2", P, decided(2, eligible=True), DAY)
    again, notices = decision_notices(
        memory, "d1", P, decided(1, eligible=True, restrictions=ADVISED), DAY
    )
    assert (again, notices) == (memory, [])


def test_r_advanced_stage_alerts_once_per_stage_3_then_4_is_two_alerts() -> None:
    assert kinds_over(
        decided(1, eligible=True, restrictions=ADVISED, advanced_stage=3),
        decided(2, eligible=True, restrictions=ADVISED, advanced_stage=4),
        decided(3, eligible=True, restrictions=ADVISED, advanced_stage=4),
    ) == [[Kind.SURGICAL_EVALUATION_ADVISED], [Kind.SURGICAL_EVALUATION_ADVISED], []]


def test_r_advanced_stage_3_then_2_then_3_alerts_once_for_stage_3() -> None:
    assert kinds_over(
        decided(1, eligible=True, restrictions=ADVISED, advanced_stage=3),
        decided(2, eligible=True),
        decided(3, eligible=True, restrictions=ADVISED, advanced_stage=3),
    ) == [[Kind.SURGICAL_EVALUATION_ADVISED], [], []]


def test_r_advanced_stage_an_advice_remembered_without_a_stage_counts_for_the_next_stage() -> None:
    """After the upgrade, the first decision naming the stage does not repeat the alert."""
    assert kinds_over(
        decided(1, eligible=True, restrictions=ADVISED),
        decided(2, eligible=True, restrictions=ADVISED, advanced_stage=3),
        decided(3, eligible=True, restrictions=ADVISED, advanced_stage=4),
    ) == [[Kind.SURGICAL_EVALUATION_ADVISED], [], [Kind.SURGICAL_EVALUATION_ADVISED]]


def test_r_advanced_stage_notice_names_the_stage() -> None:
    _, notices = decision_notices(
        PatientMemory(), "d1", P,
        decided(1, eligible=True, restrictions=ADVISED, advanced_stage=4), DAY,
    )  # fmt: skip
    assert notices[0].summary == (
        "Patient P-000123: advanced arthrosis (stage 4): surgical evaluation advised; "
        "massage stays allowed (R-ADVANCED-STAGE)"
    )


SURGERY = date(2026, 3, 4)
DAY_14 = date(2026, 3, 18)
POSTOP_BLOCK = {"rule": "R-POSTOP", "since": SURGERY, "until": DAY_14}


def rehab_after(memory: PatientMemory) -> list[str]:
    """The summaries staff get when the R-POSTOP block ends on day 14."""
    blocked, _ = decision_notices(memory, "d1", P, decided(1, eligible=False,
                                  blocks=[POSTOP_BLOCK]), SURGERY)  # fmt: skip
    _, notices = decision_notices(blocked, "d2", P, decided(2, eligible=True), DAY_14)
    return [n.summary for n in notices if n.kind is Kind.REHAB_COURSE_ELIGIBLE]


def test_r_postop_rehab_notice_names_the_r_course_break_day_after_a_cancelled_course() -> None:
    cancelled = course_data("cancelled", next_course_earliest_on="2026-04-03")
    memory = remember_course_break(PatientMemory(), cancelled)
    assert rehab_after(memory) == [
        (
            "Patient P-000123: eligible for massage again from 2026-03-18 after knee surgery; a "
            "rehabilitation course may start on or after 2026-04-03, the first open day a month "
            "after the last session of the previous course (R-POSTOP, R-COURSE-BREAK)"
        )
    ]


def test_r_postop_rehab_notice_names_the_r_course_break_day_after_a_completed_course() -> None:
    completed = course_data("completed", next_course_earliest_on="2026-03-25")
    memory = remember_course_break(PatientMemory(), completed)
    (summary,) = rehab_after(memory)
    assert "may start on or after 2026-03-25" in summary
    assert summary.endswith("(R-POSTOP, R-COURSE-BREAK)")


def test_r_postop_rehab_notice_keeps_day_14_when_the_r_course_break_ended_before() -> None:
    cancelled = course_data("cancelled", next_course_earliest_on="2026-03-10")
    memory = remember_course_break(PatientMemory(), cancelled)
    assert rehab_after(memory) == [
        (
            "Patient P-000123: eligible for a rehabilitation massage course from 2026-03-18 "
            "after knee surgery; a course may be prescribed (R-POSTOP)"
        )
    ]


def test_r_course_break_the_latest_break_counts_whatever_the_order() -> None:
    early = course_data("completed", next_course_earliest_on="2026-03-25")
    late = course_data("cancelled", next_course_earliest_on="2026-04-03")
    for first, second in ((early, late), (late, early)):
        memory = remember_course_break(remember_course_break(PatientMemory(), first), second)
        assert memory.next_course_from == date(2026, 4, 3)


def test_r_course_break_a_cancelled_course_without_a_performed_session_sets_no_break() -> None:
    cancelled = course_data("cancelled", completed_sessions=0)
    assert remember_course_break(PatientMemory(), cancelled) == PatientMemory()
