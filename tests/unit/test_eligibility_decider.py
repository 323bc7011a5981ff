"""The eligibility Decider through the runtime's in-memory shell: the service's whole
decision path (translate → decide → encode, the batch fold) with no broker or database."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from services.eligibility.decider import NEW_PATIENT, EligibilityDecider
from services.eligibility.policy import DEFAULT_POLICY
from services.runtime.decider import Context
from services.runtime.memory import InMemoryShell
from tests.clinic_events import ClinicFeed

D = date(2026, 3, 2)


def shell(today: date) -> InMemoryShell[Any, Any, Any, Any]:
    decider = EligibilityDecider(DEFAULT_POLICY, "UTC", "/courseflow/eligibility", "elig")
    now = datetime.combine(today, time(12), UTC)
    return InMemoryShell(decider, NEW_PATIENT, lambda: Context(today, now))


def decisions(eligibility: InMemoryShell[Any, Any, Any, Any]) -> list[dict[str, Any]]:
    return [json.loads(message.value)["data"] for message in eligibility.outbox]


def test_r_flare_a_batch_is_folded_in_order_and_publishes_each_change():
    feed, eligibility = ClinicFeed(), shell(D + timedelta(days=3))
    result = eligibility.handle(feed.enrolled(D), feed.flare(D + timedelta(days=1)))
    assert (result.handled, result.duplicates, result.dead_letters) == (2, 0, 0)
    published = decisions(eligibility)
    assert [d["eligible"] for d in published] == [True, False]
    assert [d["version"] for d in published] == [1, 2]
    assert [b["rule"] for b in published[1]["blocks"]] == ["R-FLARE"]
    assert {m.key for m in eligibility.outbox} == {feed.patient.encode()}


def test_the_same_event_twice_is_one_effect_in_a_batch_and_across_batches():
    feed, eligibility = ClinicFeed(), shell(D)
    enrolled = feed.enrolled(D)
    assert eligibility.handle(enrolled, enrolled).duplicates == 1
    assert eligibility.handle(enrolled).duplicates == 1
    assert len(eligibility.outbox) == 1


def test_a_rejected_fact_drops_out_leaving_no_state_and_no_inbox_row():
    feed, eligibility = ClinicFeed(), shell(D)
    eligibility.handle(feed.enrolled(D))
    before = eligibility.states[feed.patient]
    later_than_its_report = feed.flare(D + timedelta(days=9))
    reported_today = later_than_its_report.model_copy(
        update={"time": datetime.combine(D, time(9), UTC)}
    )
    result = eligibility.handle(reported_today)
    assert (result.handled, result.dead_letters) == (0, 1)
    assert eligibility.dead_letters == [
        "clinical date lies after the time of the event reporting it"
    ]
    assert eligibility.states[feed.patient] == before
    assert (reported_today.source, reported_today.id) not in eligibility.inbox


def test_story_13_facts_before_the_enrolment_wait_and_count_once_enrolled():
    feed, eligibility = ClinicFeed(), shell(D + timedelta(days=2))
    eligibility.handle(feed.flare(D))
    assert eligibility.outbox == []
    eligibility.handle(feed.enrolled(D + timedelta(days=1)))
    (decision,) = decisions(eligibility)
    assert decision["eligible"] is False
    assert [b["rule"] for b in decision["blocks"]] == ["R-FLARE"]


def test_r_postop_the_timer_is_set_to_the_day_time_alone_changes_the_decision():
    feed, eligibility = ClinicFeed(), shell(D + timedelta(days=5))
    surgery = D + timedelta(days=1)
    eligibility.handle(feed.enrolled(D), feed.surgery(surgery), feed.cleared(D + timedelta(days=5)))
    timers = [o for d in eligibility.decided for o in d.outputs if type(o).__name__ == "TimerSet"]
    assert timers[-1].on == surgery + timedelta(days=DEFAULT_POLICY.postop_min_days)


def test_events_that_do_not_concern_eligibility_are_handled_and_publish_nothing():
    feed, eligibility = ClinicFeed(), shell(D)
    result = eligibility.handle(feed.prescribed(D, "C1"))
    assert (result.handled, len(eligibility.outbox), eligibility.decided) == (1, 0, [])
