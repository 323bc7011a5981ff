"""R-ADVANCED-STAGE on the decision: the stage it advises surgical evaluation for.

The notifier alerts once per patient and stage, so the decision must say which stage.
"""

from services.eligibility.decision import Decision
from services.eligibility.engine import evaluate
from services.eligibility.policy import DEFAULT_POLICY
from tests.unit.test_eligibility_builders import MONDAY, day, profile, timeline_of


def test_r_advanced_stage_decision_names_the_stage_it_advises_for() -> None:
    for stage in (3, 4):
        decision = evaluate(timeline_of(profile(stage=stage)), MONDAY, DEFAULT_POLICY)
        assert "surgical_evaluation_advised" in decision.restrictions
        assert decision.advanced_stage == stage


def test_r_advanced_stage_no_stage_on_a_decision_that_advises_nothing() -> None:
    decision = evaluate(timeline_of(profile(stage=2)), MONDAY, DEFAULT_POLICY)
    assert decision.advanced_stage is None
    assert "advanced_stage" not in decision.to_json()


def test_r_advanced_stage_stage_3_then_4_is_a_new_decision() -> None:
    stage_3 = evaluate(timeline_of(profile(day(0), stage=3)), day(1), DEFAULT_POLICY)
    stage_4 = evaluate(
        timeline_of(profile(day(0), stage=3), profile(day(1), stage=4)), day(1), DEFAULT_POLICY
    )
    assert stage_3 != stage_4


def test_r_advanced_stage_round_trips_through_the_stored_decision() -> None:
    decision = evaluate(timeline_of(profile(stage=4)), MONDAY, DEFAULT_POLICY)
    assert Decision.from_json(decision.to_json()) == decision
