"""The eligibility service against the real broker and database (DOMAIN.md stories 2-5, 9, 10)."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.eligibility.app import timer_loop
from services.runtime import failpoints
from services.runtime.launcher import ServiceProcess
from services.runtime.months import add_months
from services.runtime.topics import ensure_topics
from tests.clinic_events import ClinicFeed, wire
from tests.integration.conftest import as_service
from tests.integration.eligibility_harness import Eligibility, running_eligibility
from tests.integration.kafka_io import produce, read_until

D = date(2026, 3, 2)  # a Monday


@dataclass
class MovableClock:
    today: date

    def now(self) -> datetime:
        return datetime.combine(self.today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


@pytest.fixture
async def eligibility(bootstrap: str, suffix: str) -> AsyncIterator[Eligibility[MovableClock]]:
    async with running_eligibility(bootstrap, suffix, MovableClock(D)) as eligibility:
        yield eligibility


async def test_story_2_flare_blocks_until_remission_confirmed(
    eligibility: Eligibility[MovableClock],
) -> None:
    feed = ClinicFeed()
    eligibility.clock.today = D + timedelta(days=12)
    await eligibility.send(feed.enrolled(D), feed.flare(D + timedelta(days=1)))
    await eligibility.decisions(feed.patient, 2)
    await eligibility.send(feed.remission(D + timedelta(days=11), D + timedelta(days=11)))
    first, flare, remission = [d["data"] for d in await eligibility.decisions(feed.patient, 3)]
    assert first["eligible"] is True
    assert first["version"] == 1
    assert flare["eligible"] is False
    assert flare["eligible_from"] is None  # R-FLARE ends only with a confirmed remission
    assert flare["blocks"] == [
        {"rule": "R-FLARE", "since": (D + timedelta(days=1)).isoformat(), "until": None}
    ]
    assert flare["version"] == 2
    assert remission == {**remission, "eligible": True, "blocks": [], "version": 3}


async def test_story_3_rheumatic_flare_waits_a_calendar_month(
    eligibility: Eligibility[MovableClock],
) -> None:
    feed = ClinicFeed()
    ended = D + timedelta(days=10)
    eligibility.clock.today = ended + timedelta(days=1)
    await eligibility.send(
        feed.enrolled(D), feed.flare(D + timedelta(days=1), rheumatic=True),
        feed.remission(ended, ended),
    )  # fmt: skip
    waiting = await eligibility.final(feed.patient, 3)
    assert waiting["eligible"] is False
    assert waiting["eligible_from"] == add_months(ended, 1).isoformat()
    assert [b["rule"] for b in waiting["blocks"]] == ["R-RHEUM-WAIT"]


async def test_story_4_fever_suspends_and_resolution_lifts_it(
    eligibility: Eligibility[MovableClock],
) -> None:
    feed = ClinicFeed()
    fever_on = D + timedelta(days=3)
    eligibility.clock.today = fever_on + timedelta(days=4)
    await eligibility.send(feed.enrolled(D), feed.contraindication(fever_on, "fever", 38.2))
    fever = (await eligibility.decisions(feed.patient, 2))[-1]["data"]
    assert fever["eligible"] is False
    assert fever["blocks"][0]["rule"] == "R-CONTRA-FEVER"
    await eligibility.send(feed.resolved(fever_on + timedelta(days=3), "fever"))
    assert (await eligibility.final(feed.patient, 3))["eligible"] is True


async def test_story_5_postop_clearance_day_5_eligible_on_day_14_by_timer(
    eligibility: Eligibility[MovableClock],
) -> None:
    feed = ClinicFeed()
    surgery = D + timedelta(days=2)
    eligibility.clock.today = surgery + timedelta(days=5)
    await eligibility.send(
        feed.enrolled(D), feed.surgery(surgery), feed.cleared(surgery + timedelta(days=5))
    )
    waiting = await eligibility.final(feed.patient, 3)
    assert waiting["eligible"] is False
    assert waiting["eligible_from"] == (surgery + timedelta(days=14)).isoformat()
    assert [b["rule"] for b in waiting["blocks"]] == ["R-POSTOP"]

    runtime, service = eligibility.runtime, eligibility.service
    timers = timer_loop(runtime.pool, runtime.schema, service, runtime.log)
    eligibility.clock.today = surgery + timedelta(days=13)
    assert await timers.tick() == 0
    eligibility.clock.today = surgery + timedelta(days=14)
    assert await timers.tick() == 1
    assert await timers.tick() == 0  # fired once, not again
    eligible = await eligibility.final(feed.patient, 4)
    assert eligible["eligible"] is True
    assert eligible["version"] == 4


async def test_story_9_remission_before_late_flare_report_equals_clinical_order(
    eligibility: Eligibility[MovableClock],
) -> None:
    in_order, late = ClinicFeed(), ClinicFeed()
    eligibility.clock.today = D + timedelta(days=20)
    flare_on, ended = D + timedelta(days=1), D + timedelta(days=9)
    await eligibility.send(
        in_order.enrolled(D), in_order.flare(flare_on), in_order.remission(ended, ended),
        late.enrolled(D), late.remission(ended, ended), late.flare(flare_on),
    )  # fmt: skip
    in_order_final = await eligibility.final(in_order.patient, 3)  # eligible, flare, eligible
    # The flare was over on arrival; it still changes the decision: it joins its history.
    late_final = await eligibility.final(late.patient, 2)
    assert {**late_final, "version": 0} == {**in_order_final, "version": 0}
    assert late_final["eligible"] is True
    ends = (ended + timedelta(days=1)).isoformat()
    flare = {"rule": "R-FLARE", "since": flare_on.isoformat(), "until": ends}
    assert late_final["history"] == [flare]


async def test_story_10_duplicate_delivery_publishes_nothing_new(
    eligibility: Eligibility[MovableClock],
) -> None:
    feed = ClinicFeed()
    flare = feed.flare(D)
    await eligibility.send(feed.enrolled(D), flare, flare)
    sentinel = ClinicFeed()
    await eligibility.send(sentinel.enrolled(D))
    await eligibility.decisions(sentinel.patient, 1)  # everything before it was handled
    decisions = await eligibility.decisions(feed.patient, 2)
    assert [d["data"]["version"] for d in decisions] == [1, 2]


async def test_invalid_messages_are_dead_lettered(eligibility: Eligibility[MovableClock]) -> None:
    await produce(eligibility.bootstrap, f"clinic-{eligibility.suffix}", b'{"id": 1}', key=b"P-x")
    impossible = ClinicFeed()  # a flare that starts days after the event reporting it
    late = {"started_on": (D + timedelta(days=9)).isoformat(), "rheumatic": False}
    await eligibility.send(impossible.event("clinic.flare.reported", D, late))
    dead = await read_until(eligibility.bootstrap, f"dead-{eligibility.suffix}",
                            lambda rs: len(rs) >= 2)  # fmt: skip
    reasons = sorted(dict(r.headers)["x-error"].decode() for r in dead)
    assert "clinical date lies after the time of the event reporting it" in reasons
    assert all("CANARY" not in r for r in reasons)
    assert len(dead) == 2


async def test_story_13_a_flare_before_the_enrolment_counts_once_enrolled(
    eligibility: Eligibility[MovableClock],
) -> None:
    """Nothing is published before the enrolment; then the flare blocks, as in clinical order."""
    early = ClinicFeed()
    eligibility.clock.today = D + timedelta(days=3)
    await eligibility.send(early.flare(D), early.enrolled(D + timedelta(days=2)))
    decided = await eligibility.final(early.patient, 1)
    assert decided["eligible"] is False
    assert decided["blocks"] == [{"rule": "R-FLARE", "since": D.isoformat(), "until": None}]
    assert decided["version"] == 1


async def test_r_rheum_wait_is_not_lifted_by_a_re_sent_enrolment(
    eligibility: Eligibility[MovableClock],
) -> None:
    feed = ClinicFeed()
    ended = D + timedelta(days=10)
    eligibility.clock.today = ended + timedelta(days=2)
    after = ended + timedelta(days=2)
    await eligibility.send(
        feed.enrolled(D, rheumatic_inflammation=True), feed.flare(D + timedelta(days=1)),
        feed.remission(ended, ended), feed.enrolled(after), feed.contraindication(after, "fever"),
    )  # fmt: skip
    # The fever's decision comes last: every decision from the remission on is "waiting".
    decisions = await eligibility.decisions(feed.patient, 4)
    *_, remission, fever = [d["data"] for d in decisions]
    assert [b["rule"] for b in remission["blocks"]] == ["R-RHEUM-WAIT"]
    assert [b["rule"] for b in fever["blocks"]] == ["R-RHEUM-WAIT", "R-CONTRA-FEVER"]
    assert len(decisions) == 4  # eligible, flare, the wait, the fever besides it


async def test_killed_mid_stream_and_restarted_loses_and_doubles_no_decision(
    bootstrap: str, suffix: str
) -> None:
    feed = ClinicFeed()
    today = datetime.now(UTC).date()
    env = {**{f"COURSEFLOW_ELIGIBILITY_{k.upper()}": str(v) for k, v in {
        "topic_patient_events": f"clinic-{suffix}", "topic_eligibility": f"elig-{suffix}",
        "topic_dead_letters": f"dead-{suffix}", "topic_partitions": 2, "http_port": 0,
    }.items()}}  # fmt: skip
    env = as_service("eligibility", env)
    await ensure_topics(bootstrap, [f"clinic-{suffix}", f"elig-{suffix}"], partitions=2)
    for event in (feed.enrolled(today), feed.flare(today)):
        key, value = wire(event)
        await produce(bootstrap, f"clinic-{suffix}", value, key=key)
    crash = {**env, "COURSEFLOW_FAILPOINTS": "after_db_commit"}
    assert await ServiceProcess("eligibility", crash).exit_code() == failpoints.EXIT_CODE
    for event in (feed.contraindication(today, "bleeding"), feed.resolved(today, "bleeding")):
        key, value = wire(event)
        await produce(bootstrap, f"clinic-{suffix}", value, key=key)

    def settled(records: list[Any]) -> bool:
        return any(json.loads(r.value)["data"]["version"] >= 3 for r in records)

    async with ServiceProcess("eligibility", env).running():
        records = await read_until(bootstrap, f"elig-{suffix}", settled, timeout_s=90)
    versions = [json.loads(r.value)["data"]["version"] for r in records]
    assert versions == sorted(set(versions))
    assert versions[:3] == [1, 2, 3]
