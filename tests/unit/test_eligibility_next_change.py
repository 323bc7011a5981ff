from datetime import timedelta

from services.eligibility.decision import decision_changed
from services.eligibility.engine import evaluate, next_change_on
from services.eligibility.policy import DEFAULT_POLICY
from tests.unit.test_eligibility_builders import (
    cleared,
    day,
    flare,
    profile,
    remission,
    reported,
    surgery,
    timeline_of,
)


def test_nothing_changes_by_time_alone_without_blocks():
    assert next_change_on(timeline_of(profile()), day(0), DEFAULT_POLICY) is None


def test_an_open_block_changes_only_with_a_further_clinical_event():
    assert next_change_on(timeline_of(flare(day(0))), day(3), DEFAULT_POLICY) is None


def test_a_block_starting_later_is_a_change():
    assert next_change_on(timeline_of(reported("bleeding", day(5))), day(0), DEFAULT_POLICY) == day(
        5
    )


def test_r_rheum_wait_end_is_the_next_change_after_the_flare_block_ends():
    timeline = timeline_of(flare(day(0), rheumatic=True), remission(day(10)))
    assert next_change_on(timeline, day(5), DEFAULT_POLICY) == day(11)
    assert next_change_on(timeline, day(11), DEFAULT_POLICY) == day(41)
    assert next_change_on(timeline, day(41), DEFAULT_POLICY) is None


def test_r_postop_end_is_the_next_change():
    timeline = timeline_of(surgery(day(0)), cleared(day(3)))
    assert next_change_on(timeline, day(3), DEFAULT_POLICY) == day(14)


def test_decision_stays_the_same_until_the_next_change():
    timeline = timeline_of(surgery(day(0)), cleared(day(3)), flare(day(20)), remission(day(25)))
    today = day(1)
    while (change := next_change_on(timeline, today, DEFAULT_POLICY)) is not None:
        current = evaluate(timeline, today, DEFAULT_POLICY)
        for offset in range(1, (change - today).days):
            assert evaluate(timeline, today + timedelta(days=offset), DEFAULT_POLICY) == current
        assert decision_changed(current, evaluate(timeline, change, DEFAULT_POLICY))
        today = change
    assert today == day(26)


def test_decision_changed():
    decision = evaluate(timeline_of(flare(day(0))), day(0), DEFAULT_POLICY)
    assert decision_changed(None, decision)
    assert not decision_changed(
        decision, evaluate(timeline_of(flare(day(0))), day(1), DEFAULT_POLICY)
    )
    assert decision_changed(decision, evaluate(timeline_of(), day(0), DEFAULT_POLICY))
