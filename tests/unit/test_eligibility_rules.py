"""One or more tests per rule ID of DOMAIN.md that eligibility decides."""

import pytest

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.eligibility.engine import evaluate
from services.eligibility.policy import DEFAULT_POLICY, Policy
from tests.unit.test_eligibility_builders import (
    MONDAY,
    cleared,
    day,
    flare,
    profile,
    remission,
    reported,
    resolved,
    surgery,
    timeline_of,
)


def decide(*facts, today=MONDAY, policy=DEFAULT_POLICY):
    return evaluate(timeline_of(*facts), today, policy)


def test_no_facts_means_eligible_without_blocks():
    decision = decide()
    assert decision.eligible
    assert decision.eligible_from is None
    assert decision.blocks == ()
    assert decision.restrictions == frozenset()


def test_r_flare_blocks_until_a_further_clinical_event():
    decision = decide(flare(day(0)), today=day(30))
    assert not decision.eligible
    assert decision.eligible_from is None
    assert decision.blocks == (Block(rule=RuleId.FLARE, since=day(0), until=None),)


def test_r_flare_does_not_block_before_it_started_but_is_listed_as_known_future():
    decision = decide(flare(day(3)), today=day(1))
    assert decision.eligible
    assert decision.blocks == (Block(rule=RuleId.FLARE, since=day(3), until=None),)


def test_r_remission_ends_the_flare_the_day_after_the_exacerbation_ended():
    facts = (flare(day(0)), remission(day(10)))
    assert decide(*facts, today=day(10)).eligible_from == day(11)
    assert decide(*facts, today=day(11)).eligible
    assert decide(*facts, today=day(11)).blocks == ()


def test_r_remission_closes_the_earliest_flare_it_can_and_flares_during_it_share_it():
    facts = (flare(day(0)), flare(day(4)), remission(day(10)), remission(day(20)))
    assert decide(*facts, today=day(5)).blocks == (
        Block(rule=RuleId.FLARE, since=day(0), until=day(11)),
    )


def test_r_remission_dated_before_every_flare_closes_nothing():
    decision = decide(remission(day(1)), flare(day(5)), today=day(6))
    assert decision.blocks == (Block(rule=RuleId.FLARE, since=day(5), until=None),)


def test_r_remission_on_the_flare_day_blocks_that_day_only():
    assert decide(flare(day(2)), remission(day(2)), today=day(2)).eligible_from == day(3)


def test_r_remission_confirmed_after_the_day_it_names_resumes_after_the_confirmation():
    facts = (flare(day(0)), remission(day(8), reported_on=day(10)))
    decision = decide(*facts, today=day(10))
    assert not decision.eligible
    assert decision.eligible_from == day(11)
    assert decision.blocks == (Block(rule=RuleId.FLARE, since=day(0), until=day(11)),)


def test_r_rheum_wait_counts_from_the_real_end_not_from_a_late_confirmation():
    facts = (flare(day(0), rheumatic=True), remission(day(8), reported_on=day(10)))
    assert decide(*facts, today=day(10)).blocks == (
        Block(rule=RuleId.FLARE, since=day(0), until=day(11)),
        Block(
            rule=RuleId.RHEUM_WAIT, since=day(9), until=day(8 + 31)
        ),  # 2026-03-10 + 1 month = 2026-04-10
    )


def test_r_remission_reported_twice_the_first_confirmation_counts():
    facts = (
        flare(day(0)),
        remission(day(8), event_id="late", reported_on=day(12)),
        remission(day(8), event_id="early", reported_on=day(9)),
    )
    assert decide(*facts, today=day(9)).eligible_from == day(10)


def test_a_late_flare_wholly_in_the_past_still_changes_the_decision_story_9():
    """DOMAIN.md story 9: the remission arrives first, the flare it ends later."""
    remission_first = decide(remission(day(9), reported_on=day(10)), today=day(11))
    both = decide(remission(day(9), reported_on=day(10)), flare(day(2)), today=day(11))
    assert remission_first.eligible
    assert both.eligible
    assert both.history == (Block(rule=RuleId.FLARE, since=day(2), until=day(11)),)
    assert both != remission_first


def test_blocks_over_by_the_decision_day_move_to_history_in_block_order():
    facts = (reported("fever", day(0), 38.2), resolved("fever", day(2)), flare(day(1)))
    decision = decide(*facts, today=day(5))
    assert decision.blocks == (Block(rule=RuleId.FLARE, since=day(1), until=None),)
    assert decision.history == (Block(rule=RuleId.CONTRA_FEVER, since=day(0), until=day(3)),)


def test_r_rheum_wait_from_the_flare_flag_waits_a_calendar_month():
    facts = (flare(day(0), rheumatic=True), remission(day(10)))
    decision = decide(*facts, today=day(11))
    assert decision.blocks == (
        Block(rule=RuleId.RHEUM_WAIT, since=day(11), until=day(41)),
    )  # 12 Mar -> 12 Apr
    assert decision.eligible_from == day(41)


def test_r_rheum_wait_from_the_profile():
    facts = (profile(rheumatic_inflammation=True), flare(day(0)), remission(day(10)))
    assert decide(*facts, today=day(5)).eligible_from == day(41)


def test_r_rheum_wait_not_without_rheumatic_inflammation():
    facts = (profile(rheumatic_inflammation=False), flare(day(0)), remission(day(10)))
    assert decide(*facts, today=day(5)).eligible_from == day(11)


def test_r_rheum_wait_policy_months():
    facts = (flare(day(0), rheumatic=True), remission(day(10)))
    two_months = Policy(rheumatic_wait_months=2)
    assert decide(*facts, today=day(5), policy=two_months).eligible_from == day(71)


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        ("bleeding", "R-CONTRA-BLEEDING"),
        ("acute_inflammation", "R-CONTRA-INFLAMMATION"),
        ("vascular_thrombosis", "R-CONTRA-THROMBOSIS"),
        ("fever", "R-CONTRA-FEVER"),
    ],
)
def test_r_contra_bleeding_inflammation_thrombosis_fever_hold_until_resolved(kind, rule):
    assert decide(reported(kind, day(0)), today=day(1)).blocks == (
        Block(rule=RuleId(rule), since=day(0), until=None),
    )
    facts = (reported(kind, day(0)), resolved(kind, day(3)))
    assert decide(*facts, today=day(1)).blocks == (
        Block(rule=RuleId(rule), since=day(0), until=day(4)),
    )
    assert decide(*facts, today=day(1)).eligible_from == day(4)
    assert decide(*facts, today=day(4)).eligible


def test_r_contra_bleeding_is_not_resolved_by_another_kind():
    facts = (reported("bleeding", day(0)), resolved("fever", day(2)))
    assert decide(*facts, today=day(5)).blocks == (
        Block(rule=RuleId.CONTRA_BLEEDING, since=day(0), until=None),
    )


def test_r_contra_thrombosis_resolution_before_the_report_closes_nothing():
    facts = (resolved("vascular_thrombosis", day(0)), reported("vascular_thrombosis", day(2)))
    assert decide(*facts, today=day(3)).eligible_from is None


def test_r_contra_resolution_reported_late_holds_until_the_day_after_the_report():
    facts = (reported("bleeding", day(0)), resolved("bleeding", day(2), reported_on=day(6)))
    assert decide(*facts, today=day(6)).blocks == (
        Block(rule=RuleId.CONTRA_BLEEDING, since=day(0), until=day(7)),
    )
    assert decide(*facts, today=day(7)).eligible


def test_r_contra_inflammation_second_episode_after_resolution():
    facts = (
        reported("acute_inflammation", day(0)),
        resolved("acute_inflammation", day(1)),
        reported("acute_inflammation", day(5)),
    )
    assert decide(*facts, today=day(3)).blocks == (
        Block(rule=RuleId.CONTRA_INFLAMMATION, since=day(5), until=None),
    )


def test_r_contra_fever_threshold_policy():
    assert decide(reported("fever", day(0), 37.2)).eligible
    assert not decide(reported("fever", day(0), 37.5)).eligible
    assert not decide(reported("fever", day(0))).eligible
    assert decide(reported("fever", day(0), 37.9), policy=Policy(fever_threshold_c=38.0)).eligible


def test_r_contra_fever_threshold_does_not_apply_to_other_kinds():
    assert not decide(reported("bleeding", day(0), 36.6)).eligible


def test_r_postop_without_clearance_blocks_until_a_further_clinical_event():
    decision = decide(surgery(day(0)), today=day(20))
    assert decision.blocks == (Block(rule=RuleId.POSTOP, since=day(0), until=None),)
    assert decision.eligible_from is None


def test_r_postop_ends_at_the_later_of_clearance_and_minimum_days():
    assert decide(surgery(day(0)), cleared(day(5))).eligible_from == day(14)
    assert decide(surgery(day(0)), cleared(day(20)), today=day(1)).eligible_from == day(20)
    assert decide(surgery(day(0)), cleared(day(20)), today=day(20)).eligible


def test_r_postop_a_clearance_reported_after_its_date_allows_massage_from_the_report():
    facts = (surgery(day(0)), cleared(day(15), reported_on=day(18)))
    assert decide(*facts, today=day(16)).eligible_from == day(18)


def test_r_postop_clearance_before_the_surgery_clears_nothing():
    assert decide(cleared(day(0)), surgery(day(2)), today=day(30)).eligible_from is None


def test_r_postop_min_days_policy():
    facts = (surgery(day(0)), cleared(day(1)))
    assert decide(*facts, policy=Policy(postop_min_days=21)).eligible_from == day(21)


def test_r_postop_and_r_flare_eligible_only_when_no_block_holds():
    facts = (surgery(day(0)), cleared(day(5)), flare(day(10)), remission(day(20)))
    decision = decide(*facts, today=day(1))
    assert decision.blocks == (
        Block(rule=RuleId.POSTOP, since=day(0), until=day(14)),
        Block(rule=RuleId.FLARE, since=day(10), until=day(21)),
    )
    assert decision.eligible_from == day(21)


def test_eligible_from_is_unknown_when_an_open_block_starts_as_another_ends():
    facts = (surgery(day(0)), cleared(day(1)), reported("bleeding", day(14)))
    assert decide(*facts, today=day(1)).eligible_from is None


@pytest.mark.parametrize(
    ("patient", "restriction"),
    [
        (profile(knee_painful_on_palpation=True), "no_direct_knee_work"),
        (profile(impaired_limb_blood_supply=True), "hemodynamic_techniques"),
        (profile(severe_swelling=True), "in_water"),
    ],
)
def test_r_no_knee_when_painful_r_hemodynamics_r_in_water_restrictions(patient, restriction):
    decision = decide(patient)
    assert decision.eligible
    assert decision.restrictions == frozenset({restriction})


@pytest.mark.parametrize(("stage", "advised"), [(1, False), (2, False), (3, True), (4, True)])
def test_r_advanced_stage_advises_surgical_evaluation_and_massage_stays_allowed(stage, advised):
    decision = decide(profile(stage=stage))
    assert decision.eligible
    assert ("surgical_evaluation_advised" in decision.restrictions) is advised


def test_restrictions_follow_the_latest_profile_whatever_the_order():
    older = profile(day(0), stage=3, knee_painful_on_palpation=True)
    newer = profile(day(1), stage=2, severe_swelling=True)
    assert decide(newer, older).restrictions == frozenset({"in_water"})
    assert decide(older, newer).restrictions == frozenset({"in_water"})


def test_r_flare_touching_episodes_join_into_one_block():
    facts = (flare(day(0)), remission(day(4)), flare(day(5)), remission(day(9)), flare(day(20)))
    assert decide(*facts).blocks == (
        Block(rule=RuleId.FLARE, since=day(0), until=day(10)),
        Block(rule=RuleId.FLARE, since=day(20), until=None),
    )
