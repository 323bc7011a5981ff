"""The eligibility service in-process on the real broker and database, with a clock the test
moves: shared by the service's tests and the timer tests."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from schemas.envelope import Envelope
from services.eligibility.app import EligibilityService, build_runtime
from services.eligibility.settings import EligibilitySettings
from services.runtime.clock import Clock
from services.runtime.service import ServiceRuntime
from tests.clinic_events import wire
from tests.integration.kafka_io import produce, read_until

C = TypeVar("C", bound=Clock)


def settings_for(suffix: str) -> EligibilitySettings:
    """Topics of the test's own; timers fire only when a test ticks them."""
    return EligibilitySettings(
        topic_patient_events=f"clinic-{suffix}", topic_eligibility=f"elig-{suffix}",
        topic_schedule=f"sched-{suffix}", topic_notices=f"notices-{suffix}",
        topic_dead_letters=f"dead-{suffix}", topic_partitions=2, outbox_poll_interval_s=0.2,
        timer_interval_s=3600, log_format="json",
    )  # fmt: skip


@dataclass
class Eligibility(Generic[C]):
    runtime: ServiceRuntime
    service: EligibilityService
    clock: C
    bootstrap: str
    suffix: str

    async def send(self, *events: Envelope) -> None:
        for event in events:
            key, value = wire(event)
            await produce(self.bootstrap, f"clinic-{self.suffix}", value, key=key)

    async def records(self, topic: str, key: str, count: int) -> list[Any]:
        """At least `count` records of `key` on the test's `topic` (elig, dead, …)."""

        def enough(records: list[Any]) -> bool:
            return len([r for r in records if r.key == key.encode()]) >= count

        records = await read_until(self.bootstrap, f"{topic}-{self.suffix}", enough)
        return [r for r in records if r.key == key.encode()]

    async def decisions(self, patient: str, count: int) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in await self.records("elig", patient, count)]

    async def final(self, patient: str, count: int) -> dict[str, Any]:
        decisions = await self.decisions(patient, count)
        assert len(decisions) == count, [d["data"] for d in decisions]
        return dict(decisions[-1]["data"])


@asynccontextmanager
async def running_eligibility(
    bootstrap: str, suffix: str, clock: C
) -> AsyncIterator[Eligibility[C]]:
    runtime, service = build_runtime(settings_for(suffix), clock, name=f"elig_{suffix}")
    await runtime.start()
    try:
        yield Eligibility(runtime, service, clock, bootstrap, suffix)
    finally:
        await runtime.stop()
