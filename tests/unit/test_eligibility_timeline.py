import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.eligibility.decision import Decision
from services.eligibility.engine import evaluate
from services.eligibility.policy import DEFAULT_POLICY
from services.eligibility.timeline import Timeline, record
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

EVERY_KIND_OF_FACT = (
    profile(day(0), stage=3, rheumatic_inflammation=True, severe_swelling=True),
    flare(day(1), rheumatic=True),
    remission(day(4), reported_on=day(6)),
    reported("fever", day(2), 38.4),
    reported("bleeding", day(3)),
    resolved("fever", day(5)),
    surgery(day(40)),
    cleared(day(45)),
)


def test_facts_stored_before_reported_on_existed_read_as_reported_on_their_day():
    stored: dict[str, Any] = {"format": 1, "facts": [
        {"type": "remission_confirmed", "event_id": "r", "exacerbation_ended_on": "2026-03-06"},
    ]}  # fmt: skip
    (fact,) = Timeline.from_json(stored).facts
    assert fact == remission(day(4), event_id="r")
    assert fact.last_day_held == day(4)


def test_decisions_stored_before_history_existed_read_as_without_history():
    stored: dict[str, Any] = {
        "eligible": True,
        "eligible_from": None,
        "blocks": [],
        "restrictions": [],
    }
    assert Decision.from_json(stored).history == ()


def test_record_is_idempotent_for_the_same_event_id():
    once = timeline_of(flare(day(0)))
    assert record(once, flare(day(0))) is once
    assert record(once, flare(day(9), event_id="flare-2026-03-02")) is once


def test_record_keeps_a_canonical_order_whatever_the_arrival_order():
    assert timeline_of(*EVERY_KIND_OF_FACT) == timeline_of(*reversed(EVERY_KIND_OF_FACT))


def test_json_round_trip_keeps_every_kind_of_fact():
    timeline = timeline_of(*EVERY_KIND_OF_FACT)
    stored = json.loads(json.dumps(timeline.to_json()))
    assert Timeline.from_json(stored) == timeline
    assert Timeline.from_json(Timeline().to_json()) == Timeline()


def test_json_keeps_the_profile_offset():
    timeline = timeline_of(profile(day(0)))
    (restored,) = Timeline.from_json(json.loads(json.dumps(timeline.to_json()))).facts
    assert restored == timeline.facts[0]


def test_json_of_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format"):
        Timeline.from_json({"format": 99, "facts": []})


def test_latest_profile_wins_ties_broken_by_event_id():
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    first = profile(day(0), stage=1, event_id="a")
    second = profile(day(0), stage=2, event_id="b")
    assert first.effective_at == second.effective_at == at
    assert timeline_of(second, first).current_profile() == second


def test_decision_json_round_trip():
    timeline = timeline_of(*EVERY_KIND_OF_FACT)
    decision = evaluate(timeline, day(6), DEFAULT_POLICY)
    assert decision.blocks
    assert decision.history
    wire = json.loads(json.dumps(decision.to_json()))
    assert Decision.from_json(wire) == decision
    assert wire["restrictions"] == ["in_water", "surgical_evaluation_advised"]
    assert decision.rules == ("R-CONTRA-BLEEDING", "R-FLARE", "R-POSTOP", "R-RHEUM-WAIT")
    assert decision.history == (Block(rule=RuleId.CONTRA_FEVER, since=day(2), until=day(6)),)


def test_profile_needs_an_offset_and_a_known_stage():
    with pytest.raises(ValueError, match="offset"):
        profile(day(0)).__class__("p", datetime(2026, 3, 2, 9), 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="stage"):
        profile(day(0), stage=5)


def test_block_until_is_exclusive():
    block = Block(rule=RuleId.FLARE, since=date(2026, 3, 1), until=date(2026, 3, 3))
    assert [block.holds_on(date(2026, 3, d)) for d in (1, 2, 3)] == [True, True, False]
