"""Properties of the eligibility core over generated clinical histories."""

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.eligibility.decision import block_order
from services.eligibility.engine import evaluate, next_change_on
from services.eligibility.facts import (
    CONTRAINDICATION_KINDS,
    ContraindicationReported,
    ContraindicationResolved,
    Fact,
    FlareReported,
    MassageCleared,
    RemissionConfirmed,
    SurgeryPerformed,
)
from services.eligibility.patient import admit, conclude
from services.eligibility.policy import DEFAULT_POLICY
from services.eligibility.rejection import check
from services.eligibility.timeline import Timeline
from tests.unit.test_eligibility_builders import day, profile, timeline_of

clinical_days = st.integers(0, 60).map(day)
kinds = st.sampled_from(CONTRAINDICATION_KINDS)
temperatures = st.none() | st.sampled_from([36.6, 37.2, 37.5, 38.2])
report_days = st.none() | clinical_days

enrolments = st.builds(
    profile, clinical_days, st.integers(1, 4), rheumatic_inflammation=st.booleans()
)
fact_without_id = st.one_of(
    enrolments,
    st.builds(FlareReported, st.just(""), clinical_days, st.booleans()),
    st.builds(RemissionConfirmed, st.just(""), clinical_days, report_days),
    st.builds(ContraindicationReported, st.just(""), kinds, clinical_days, temperatures),
    st.builds(ContraindicationResolved, st.just(""), kinds, clinical_days, report_days),
    st.builds(SurgeryPerformed, st.just(""), clinical_days, st.sampled_from(["left", "right"])),
    st.builds(MassageCleared, st.just(""), clinical_days, report_days),
)


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    facts = draw(st.lists(fact_without_id, max_size=12))
    return [replace(fact, event_id=f"event-{index}") for index, fact in enumerate(facts)]


@st.composite
def deliveries(draw: st.DrawFn, facts: list[Fact]) -> list[Fact]:
    """Any arrival order, with some events delivered more than once."""
    duplicates = draw(st.lists(st.sampled_from(facts), max_size=4)) if facts else []
    return draw(st.permutations([*facts, *duplicates]))


@settings(max_examples=200, deadline=None)
@given(st.data(), histories(), st.lists(st.integers(-5, 100).map(day), min_size=3, max_size=3))
def test_r_flare_r_remission_r_contra_r_postop_any_arrival_order_gives_the_same_decision(
    data, facts, todays
):
    in_clinical_order = timeline_of(*sorted(facts, key=lambda f: (f.clinical_on, f.event_id)))
    arrived = timeline_of(*data.draw(deliveries(facts)))
    assert arrived == in_clinical_order
    for today in todays:
        assert evaluate(arrived, today, DEFAULT_POLICY) == evaluate(
            in_clinical_order, today, DEFAULT_POLICY
        )
        assert next_change_on(arrived, today, DEFAULT_POLICY) == next_change_on(
            in_clinical_order, today, DEFAULT_POLICY
        )


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(-5, 100).map(day))
def test_decision_is_consistent_with_its_blocks(facts, today):
    timeline = timeline_of(*facts)
    decision = evaluate(timeline, today, DEFAULT_POLICY)
    assert decision.eligible == (not any(b.holds_on(today) for b in decision.blocks))
    assert all(not b.over_by(today) for b in decision.blocks)
    assert all(b.over_by(today) for b in decision.history)
    if decision.eligible:
        assert decision.eligible_from is None
    elif decision.eligible_from is not None:
        assert decision.eligible_from > today
        assert evaluate(timeline, decision.eligible_from, DEFAULT_POLICY).eligible
        before = decision.eligible_from - timedelta(days=1)
        assert not evaluate(timeline, before, DEFAULT_POLICY).eligible


@settings(max_examples=200, deadline=None)
@given(histories(), st.lists(st.integers(-5, 100).map(day), min_size=2, max_size=2))
def test_every_decision_carries_every_block_the_facts_imply(facts, todays):
    """So a reader needs only the latest decision, whatever came before it."""
    timeline = timeline_of(*facts)
    first, second = (evaluate(timeline, today, DEFAULT_POLICY) for today in todays)
    assert sorted(first.history + first.blocks, key=block_order) == sorted(
        second.history + second.blocks, key=block_order
    )


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(-5, 100).map(day))
def test_next_change_on_is_the_first_day_the_decision_differs(facts, today):
    timeline = timeline_of(*facts)
    decision = evaluate(timeline, today, DEFAULT_POLICY)
    change = next_change_on(timeline, today, DEFAULT_POLICY)
    horizon = (change - today).days if change is not None else 120
    for offset in range(1, horizon):
        assert evaluate(timeline, today + timedelta(days=offset), DEFAULT_POLICY) == decision
    if change is not None:
        assert evaluate(timeline, change, DEFAULT_POLICY) != decision


@settings(max_examples=200, deadline=None)
@given(histories())
def test_timeline_json_round_trip(facts):
    timeline = timeline_of(*facts)
    assert Timeline.from_json(timeline.to_json()) == timeline


@settings(max_examples=200, deadline=None)
@given(st.data(), histories(), fact_without_id, clinical_days)
def test_rejection_does_not_depend_on_which_facts_arrived_first(data, facts, fact, event_on):
    candidate = replace(fact, event_id="candidate")
    arrived_so_far = data.draw(st.lists(st.sampled_from(facts), unique=True)) if facts else []
    assert check(timeline_of(*arrived_so_far), candidate, event_on=event_on) == check(
        Timeline(), candidate, event_on=event_on
    )


@settings(max_examples=200, deadline=None)
@given(st.data(), histories(), enrolments, st.integers(-5, 100).map(day))
def test_r_rheum_wait_r_flare_the_enrolment_anywhere_in_the_stream_gives_the_clinical_order_result(
    data, facts, enrolment, today
):
    """Facts before the enrolment are kept, nothing is published until a profile is known,
    and the last decision published is the one for the facts in clinical order."""
    stream = [*facts, replace(enrolment, event_id="enrolment")]
    arrived = data.draw(deliveries(stream))
    record = None
    for fact in arrived:
        timeline = admit(record, fact, event_on=fact.clinical_on, policy=DEFAULT_POLICY)
        assert isinstance(timeline, Timeline)
        outcome = conclude(record, timeline, today, DEFAULT_POLICY)
        if not timeline.enrolled:
            assert outcome.published is None
        record = outcome.record
    assert record is not None
    in_clinical_order = timeline_of(*sorted(stream, key=lambda f: (f.clinical_on, f.event_id)))
    assert record.decision == evaluate(in_clinical_order, today, DEFAULT_POLICY)
