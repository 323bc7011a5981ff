"""DOMAIN.md "Clinical time": facts that arrive before the enrolment are kept, not rejected."""

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.eligibility.patient import admit, conclude
from services.eligibility.policy import DEFAULT_POLICY
from services.eligibility.timeline import Timeline
from tests.unit.test_eligibility_builders import day, flare, profile


def test_r_flare_reported_before_the_enrolment_is_kept_and_publishes_nothing():
    """Story 13, eligibility's half: kept without a profile; counts once enrolled."""
    early = admit(None, flare(day(0)), event_on=day(0), policy=DEFAULT_POLICY)
    assert isinstance(early, Timeline)
    waiting = conclude(None, early, day(1), DEFAULT_POLICY)
    assert waiting.published is None
    assert waiting.record.decision is None
    assert waiting.next_change_on is None
    enrolled = admit(waiting.record, profile(day(2)), event_on=day(2), policy=DEFAULT_POLICY)
    assert not isinstance(enrolled, str)
    outcome = conclude(waiting.record, enrolled, day(2), DEFAULT_POLICY)
    assert outcome.published is not None
    assert not outcome.published.eligible
    assert outcome.published.blocks == (Block(rule=RuleId.FLARE, since=day(0), until=None),)
    assert outcome.record.version == 1


def test_a_fact_before_the_enrolment_is_still_checked():
    impossible = flare(day(9))
    reason = admit(None, impossible, event_on=day(0), policy=DEFAULT_POLICY)
    assert reason == "clinical date lies after the time of the event reporting it"
