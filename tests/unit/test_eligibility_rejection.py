import math
from itertools import permutations

import pytest

from services.eligibility.policy import Policy
from services.eligibility.rejection import check
from services.eligibility.timeline import Timeline
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


def test_a_plausible_fact_is_accepted():
    assert check(Timeline(), flare(day(0)), event_on=day(0)) is None
    assert check(Timeline(), reported("fever", day(0), 41.0)) is None


@pytest.mark.parametrize(
    "fact",
    [flare(day(3)), remission(day(3)), resolved("fever", day(3)), cleared(day(3)), profile(day(3))],
)
def test_a_clinical_date_after_the_reporting_event_is_rejected(fact):
    reason = check(Timeline(), fact, event_on=day(0))
    assert reason == "clinical date lies after the time of the event reporting it"


def test_a_day_of_tolerance_for_time_zones_is_policy():
    assert check(Timeline(), flare(day(1)), event_on=day(0)) is None
    strict = Policy(future_tolerance_days=0)
    assert check(Timeline(), flare(day(1)), event_on=day(0), policy=strict) is not None


@pytest.mark.parametrize("temperature", [12.0, 52.0, math.nan, math.inf])
def test_r_contra_fever_impossible_body_temperature_is_rejected(temperature):
    reason = check(Timeline(), reported("fever", day(0), temperature))
    assert reason == "body temperature outside the range a living patient can have"


def test_an_event_id_reused_for_other_content_is_rejected_and_a_duplicate_is_not():
    timeline = timeline_of(flare(day(0), event_id="e1"))
    assert check(timeline, flare(day(0), event_id="e1")) is None
    assert check(timeline, remission(day(2), event_id="e1")) == (
        "event id already recorded with different content"
    )


def test_rejection_reasons_carry_no_values():
    reason = check(Timeline(), reported("fever", day(0), 99.9), event_on=day(0))
    assert reason is not None
    assert not any(char.isdigit() for char in reason)


@pytest.mark.parametrize(
    ("closing", "opening"),
    [
        (remission(day(1)), flare(day(5))),
        (resolved("bleeding", day(1)), reported("bleeding", day(5))),
        (cleared(day(1)), surgery(day(5))),
    ],
)
def test_r_remission_r_contra_bleeding_r_postop_dangling_ends_are_kept_not_rejected(
    closing, opening
):
    """A later report may still pair them (story 9), so rejecting would depend on order."""
    unrelated = (flare(day(0)), reported("bleeding", day(0)), surgery(day(0)))
    for arrived in permutations((opening, *unrelated)):
        assert check(timeline_of(*arrived), closing, event_on=day(9)) is None
