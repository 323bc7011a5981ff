"""Facts that cannot be true, rejected before they are recorded.

A rejection must never make the decision depend on arrival order. So a fact is judged by
itself (and the time of the event that reports it), never by which other facts happen to
have arrived: under out-of-order delivery another reading is always possible. A remission
dated before every known flare may close a flare reported late (story 9); a resolution may
close a report still on its way; a clearance dated before the known surgery may follow an
earlier surgery not yet reported. Such facts are recorded and stay inert until their
counterpart arrives (the rules pair facts by date, and an unpaired end changes nothing), so
the decision for a set of valid facts is the same in every arrival order, and a fact
rejected here is rejected in every arrival order.

The one check that looks at the timeline is an event id reused for different content: the
stream itself is then invalid, and the first content to arrive is kept.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING

from services.eligibility.facts import ContraindicationReported, Fact
from services.eligibility.policy import DEFAULT_POLICY, Policy

if TYPE_CHECKING:
    from services.eligibility.timeline import Timeline

HUMAN_BODY_TEMPERATURE_C = (30.0, 45.0)


def check(
    timeline: Timeline,
    fact: Fact,
    *,
    event_on: date | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> str | None:
    """A one-line, value-free reason why `fact` is impossible, or None to record it.

    `event_on` is the clinic-local date of the reporting event's clinical `time`.
    """
    recorded = timeline.find(fact.event_id)
    if recorded is not None and recorded != fact:
        return "event id already recorded with different content"
    latest_possible = (
        None if event_on is None else event_on + timedelta(policy.future_tolerance_days)
    )
    if latest_possible is not None and fact.clinical_on > latest_possible:
        return "clinical date lies after the time of the event reporting it"
    if isinstance(fact, ContraindicationReported) and not _plausible(fact.body_temperature_c):
        return "body temperature outside the range a living patient can have"
    return None


def _plausible(temperature_c: float | None) -> bool:
    if temperature_c is None:
        return True
    low, high = HUMAN_BODY_TEMPERATURE_C
    return math.isfinite(temperature_c) and low <= temperature_c <= high
