"""W3C Trace Context travels with what it causes (CONTRACT.md, envelope "extensions").

A clinic event with a `traceparent` goes through the three services on the real broker and
database: the eligibility decision, the planner's schedule events and the notifier's
notice.issued each carry the trace context of the event that caused them. An extension
attribute of the clinic event is accepted and passed on to nothing.
"""

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.codec import to_bytes
from schemas.envelope import Envelope
from services.eligibility.app import build_runtime as eligibility_runtime
from services.eligibility.settings import EligibilitySettings
from services.notifier.app import build_runtime as notifier_runtime
from services.notifier.settings import NotifierSettings
from services.planner.app import build_runtime as planner_runtime
from tests.integration.kafka_io import produce, read_until
from tests.integration.peers import notifier_harness
from tests.integration.test_planner_support import PlannerFeed
from tests.integration.test_planner_support import settings_for as planner_settings

ENROLMENT_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
PRESCRIPTION_TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
FLARE_TRACE = "00-c0ffee16cd43dd8448eb211c80319c00-00f067aa0ba90200-00"
TRACESTATE = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"


@dataclass
class Services:
    bootstrap: str
    suffix: str

    async def send(self, event: Envelope, **extensions: Any) -> None:
        value = json.dumps({**json.loads(to_bytes(event)), **extensions}).encode()
        await produce(self.bootstrap, f"clinic-{self.suffix}", value, key=event.subject.encode())

    async def events(
        self, topic: str, patient: str, done: Callable[[list[dict[str, Any]]], object]
    ) -> list[dict[str, Any]]:
        def enough(records: list[Any]) -> bool:
            return bool(done([json.loads(r.value) for r in records if r.key == patient.encode()]))

        records = await read_until(self.bootstrap, f"{topic}-{self.suffix}", enough)
        return [json.loads(r.value) for r in records if r.key == patient.encode()]


@pytest.fixture
async def services(bootstrap: str, suffix: str) -> AsyncIterator[Services]:
    topics = notifier_harness.topics(suffix)
    eligibility, _ = eligibility_runtime(
        EligibilitySettings(**topics, outbox_poll_interval_s=0.2, log_format="json"),
        name=f"elig_{suffix}",
    )
    planner, _ = planner_runtime(planner_settings(suffix), name=f"plan_{suffix}")
    fast: dict[str, Any] = dict(notifier_harness.FAST_DELIVERY)
    notifier, _ = notifier_runtime(
        NotifierSettings(**topics, **fast, log_format="json"), name=f"notif_{suffix}"
    )  # no routing file: every notice to the log channel
    started: list[Any] = []
    try:
        for runtime in (eligibility, planner, notifier):
            await runtime.start()
            started.append(runtime)
        yield Services(bootstrap, suffix)
    finally:
        for runtime in reversed(started):
            await runtime.stop()


async def test_trace_context_is_carried_onto_decisions_schedule_events_and_notices(
    services: Services,
) -> None:
    feed = PlannerFeed()
    today = datetime.now(UTC).date()
    enrolled, prescribed = feed.enrolled(today), feed.prescription(today + timedelta(days=1))
    flare = feed.flare(today)
    traces: dict[str, tuple[str | None, str | None]] = {
        enrolled.id: (ENROLMENT_TRACE, TRACESTATE),
        prescribed.id: (PRESCRIPTION_TRACE, None),
        flare.id: (FLARE_TRACE, None),
    }  # each cause's trace context, by event id; the services' outputs are added below

    await services.send(
        enrolled, traceparent=ENROLMENT_TRACE, tracestate=TRACESTATE, comexampleext="ignored"
    )
    (first,) = await services.events("elig", feed.patient, lambda events: events)
    assert "comexampleext" not in first
    await services.send(prescribed, traceparent=PRESCRIPTION_TRACE)
    await services.events("sched", feed.patient, lambda events: events)
    await services.send(flare, traceparent=FLARE_TRACE)

    decisions = await services.events("elig", feed.patient, lambda events: len(events) >= 2)
    assert [d["causationid"] for d in decisions] == [enrolled.id, flare.id]
    schedule = await services.events("sched", feed.patient, lambda events: len(events) >= 2)
    assert [e["causationid"] for e in schedule] == [prescribed.id, decisions[1]["id"]]
    for event in [*decisions, *schedule]:  # in causal order: a cause comes before its effects
        expected = traces[event["causationid"]]
        assert (event.get("traceparent"), event.get("tracestate")) == expected, event["type"]
        traces[event["id"]] = expected

    def every_schedule_event_announced(notices: list[dict[str, Any]]) -> bool:
        return {e["id"] for e in schedule} <= {n["data"]["cause_id"] for n in notices}

    notices = await services.events("notices", feed.patient, every_schedule_event_announced)
    assert every_schedule_event_announced(notices)
    for notice in notices:
        expected = traces[notice["data"]["cause_id"]]
        assert (notice.get("traceparent"), notice.get("tracestate")) == expected
