"""DOMAIN.md worked stories 2, 3, 4, 5 and 9, at the eligibility level.

The course is on the planner's side; here: what eligibility decides on the way.
"""

from datetime import date

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.eligibility.engine import evaluate, next_change_on
from services.eligibility.policy import DEFAULT_POLICY
from tests.unit.test_eligibility_builders import (
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

FLARE_DAY = day(11)  # a day in the middle of a course


def test_story_2_r_flare_then_r_remission_ten_days_later():
    during = evaluate(timeline_of(profile(), flare(FLARE_DAY)), FLARE_DAY, DEFAULT_POLICY)
    assert not during.eligible
    assert during.eligible_from is None
    assert during.blocks == (Block(rule=RuleId.FLARE, since=FLARE_DAY, until=None),)

    ended_on = day(21)
    after = timeline_of(profile(), flare(FLARE_DAY), remission(ended_on))
    confirmed = evaluate(after, ended_on, DEFAULT_POLICY)
    assert not confirmed.eligible
    assert confirmed.eligible_from == day(22)
    assert confirmed.blocks == (Block(rule=RuleId.FLARE, since=FLARE_DAY, until=day(22)),)
    assert evaluate(after, day(22), DEFAULT_POLICY).eligible


def test_story_3_r_rheum_wait_resumes_no_earlier_than_a_month_after():
    ended_on = date(2026, 1, 31)
    facts = (profile(date(2026, 1, 1), rheumatic_inflammation=True), flare(date(2026, 1, 20)))
    timeline = timeline_of(*facts, remission(ended_on))
    decision = evaluate(timeline, ended_on, DEFAULT_POLICY)
    assert decision.blocks == (
        Block(rule=RuleId.FLARE, since=date(2026, 1, 20), until=date(2026, 2, 1)),
        Block(rule=RuleId.RHEUM_WAIT, since=date(2026, 2, 1), until=date(2026, 2, 28)),
    )
    assert decision.eligible_from == date(2026, 2, 28)
    assert not evaluate(timeline, date(2026, 2, 27), DEFAULT_POLICY).eligible
    assert evaluate(timeline, date(2026, 2, 28), DEFAULT_POLICY).eligible


def test_story_4_r_contra_fever_suspends_and_resolution_resumes():
    fever = reported("fever", day(5), 38.2)
    during = evaluate(timeline_of(profile(), fever), day(5), DEFAULT_POLICY)
    assert not during.eligible
    assert during.blocks == (Block(rule=RuleId.CONTRA_FEVER, since=day(5), until=None),)

    timeline = timeline_of(profile(), fever, resolved("fever", day(8)))
    assert evaluate(timeline, day(8), DEFAULT_POLICY).eligible_from == day(9)
    assert evaluate(timeline, day(9), DEFAULT_POLICY).eligible


def test_story_5_r_postop_clearance_on_day_5_eligible_from_day_14():
    operated = day(7)
    before_clearance = evaluate(timeline_of(surgery(operated)), operated, DEFAULT_POLICY)
    assert before_clearance.eligible_from is None

    timeline = timeline_of(surgery(operated), cleared(day(12)))
    on_clearance = evaluate(timeline, day(12), DEFAULT_POLICY)
    assert not on_clearance.eligible
    assert on_clearance.eligible_from == day(21)
    assert on_clearance.blocks == (Block(rule=RuleId.POSTOP, since=operated, until=day(21)),)
    assert next_change_on(timeline, day(12), DEFAULT_POLICY) == day(21)
    assert not evaluate(timeline, day(20), DEFAULT_POLICY).eligible
    assert evaluate(timeline, day(21), DEFAULT_POLICY).eligible


def test_story_9_r_remission_before_the_late_flare_report_gives_the_same_state():
    facts = (profile(), flare(FLARE_DAY), remission(day(21)))
    in_clinical_order = timeline_of(*facts)
    remission_first = timeline_of(facts[0], facts[2], facts[1])
    assert remission_first == in_clinical_order

    only_remission = timeline_of(facts[0], facts[2])
    assert evaluate(only_remission, day(22), DEFAULT_POLICY).eligible
    for today in (FLARE_DAY, day(21), day(22)):
        assert evaluate(remission_first, today, DEFAULT_POLICY) == evaluate(
            in_clinical_order, today, DEFAULT_POLICY
        )
