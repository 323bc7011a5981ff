"""What the notifier remembers per patient: R-POSTOP and R-ADVANCED-STAGE notices once."""

from datetime import date

from services.notifier.decision_notices import PatientMemory, decision_notices
from services.notifier.kinds import Kind
from tests.unit.test_notifier_summaries import POSTOP, P, decided

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


def test_r_advanced_stage_once_until_the_restriction_disappears_and_returns() -> None:
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
