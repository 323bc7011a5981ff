"""The planner side of the system under load: eligibility and several planner processes.

Like `tests.e2e.system`, the services are OS processes started the README's way, configured
only by environment, on topics of this run's own; here several planner processes share the
`planner` consumer group (and schema), so the partitions of every input topic are split
between them. The notifier is not started: what is judged is what the planner published
and the bookings it holds.
"""

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from schemas.codec import to_bytes
from schemas.envelope import Envelope
from schemas.staff import StaffEventUnion
from services.runtime.launcher import ServiceProcess, free_port, terminate_all
from services.runtime.topics import RunTopics, ensure_topics
from services.stack.postgres import PostgresStack
from tests.e2e.system import PARTITIONS, service_env
from tests.faults.faults import group_state
from tests.integration.kafka_io import uncommitted

if TYPE_CHECKING:
    from aiokafka.structs import RecordMetadata

POLL_S = 0.5
SCHEMAS = ("eligibility", "planner")


def partitions_of(topics: Sequence[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]


def handled_in(metrics_text: str) -> Counter[str]:
    """From one /metrics page: the records handled, per consumed topic."""
    handled: Counter[str] = Counter()
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "courseflow_messages_total" and sample.labels["outcome"] == "handled":
                handled[sample.labels["topic"]] += int(sample.value)
    return handled


@dataclass
class ReplicatedSystem:
    bootstrap: str
    topics: RunTopics
    eligibility: ServiceProcess
    planners: list[ServiceProcess]
    producer: AIOKafkaProducer

    @property
    def processes(self) -> list[ServiceProcess]:
        return [self.eligibility, *self.planners]

    # -- the clinic's side ------------------------------------------------------------------
    async def staff(self, *events: StaffEventUnion) -> None:
        """Staff events, keyed by their clinic, each acknowledged before the next."""
        for event in events:
            key = event.data.clinic_id.encode()
            await self.producer.send_and_wait(self.topics.staff_events, to_bytes(event), key=key)

    async def send_all(self, events: Sequence[Envelope]) -> "list[RecordMetadata]":
        """Patient events handed to the producer at once (in order per key, as the idempotent
        producer keeps it), then where each one landed, once all are acknowledged."""
        pending = [
            await self.producer.send(
                self.topics.patient_events, to_bytes(event), key=event.subject.encode()
            )
            for event in events
        ]
        return list(await asyncio.gather(*pending))

    # -- waiting ----------------------------------------------------------------------------
    async def groups_settled(self, timeout_s: float = 60) -> None:
        """Until each group is Stable with one member per consumer of each of its processes:
        every planner process holds partitions before the load starts."""
        want = {
            "eligibility": len(self.topics.consumers("eligibility")),
            "planner": len(self.topics.consumers("planner")) * len(self.planners),
        }
        for group, members in want.items():
            await self._polled(
                partial(self._group_is, group, ("Stable", members)), timeout_s,
                partial(str, f"group {group} not Stable with {members} members"),
            )  # fmt: skip

    async def _group_is(self, group: str, state: tuple[str, int]) -> bool:
        return await group_state(self.bootstrap, group) == state

    async def consumed(self, group: str, topics: Sequence[str], timeout_s: float = 60) -> None:
        async def done() -> bool:
            return not await uncommitted(self.bootstrap, group, topics, partitions=PARTITIONS)

        await self._polled(done, timeout_s, lambda: f"{group} behind on {list(topics)}")

    async def quiescent(self, timeout_s: float) -> float:
        """Until nothing is left to do: every group committed its inputs to their end, no
        outbox row of this run is unsent, and no topic grew meanwhile (so the records the
        outboxes published before were consumed too). Returns the seconds it took."""
        started = time.monotonic()
        why: list[str] = ["not polled yet"]

        async def nothing_left() -> bool:
            nonlocal why
            before = await self.end_offsets()
            behind = [
                f"{group} {where}"
                for group in SCHEMAS
                for where in await uncommitted(
                    self.bootstrap, group, self.topics.inputs(group), partitions=PARTITIONS
                )
            ]
            unsent = await self.unsent()
            grew = before != await self.end_offsets()
            why = [*behind, *(f"{n} unsent in {s}.outbox" for s, n in unsent.items() if n)]
            why += ["topics grew"] if grew else []
            return not why

        await self._polled(nothing_left, timeout_s, lambda: f"not quiescent: {why}")
        return time.monotonic() - started

    async def _polled(
        self, check: Callable[[], Awaitable[bool]], timeout_s: float, why: Callable[[], str]
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            for process in self.processes:
                process.check_alive()
            if await check():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"after {timeout_s}s, {why()}")
            await asyncio.sleep(POLL_S)

    async def end_offsets(self) -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            return dict(await consumer.end_offsets(partitions_of(self.topics.every)))
        finally:
            await consumer.stop()

    async def unsent(self) -> dict[str, int]:
        """Outbox rows for this run's topics not yet published, per service schema."""
        conn = await asyncpg.connect(PostgresStack.from_env().url, timeout=5)
        try:
            unsent = {}
            for schema in SCHEMAS:
                query = f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL"
                query += " AND topic = ANY($1::text[])"
                unsent[schema] = int(await conn.fetchval(query, self.topics.every))
            return unsent
        finally:
            await conn.close()

    # -- what the system did ----------------------------------------------------------------
    async def published(self, topic: str) -> list[Any]:
        """Every record of `topic` up to its end now, in order per partition."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = partitions_of([topic])
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[Any] = []
            deadline = time.monotonic() + 60
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, got in batch.items():
                    records += [r for r in got if r.offset < ends[tp]]
                assert time.monotonic() < deadline, f"could not read {topic} to its end"
            return records
        finally:
            await consumer.stop()

    def problems(self, process: ServiceProcess, *errors: str) -> list[dict[str, Any]]:
        """The process's JSON log lines that name one of `errors` (as `error` or in `reason`)."""
        assert process.log_path is not None
        found = []
        for line in process.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue  # uvicorn's own lines
            logged = json.loads(line)
            named = f"{logged.get('error', '')} {logged.get('reason', '')}"
            if any(error in named for error in errors):
                found.append(logged)
        return found

    async def handled(self, process: ServiceProcess) -> Counter[str]:
        """What the process's /metrics counts as handled, per consumed topic."""
        async with httpx.AsyncClient(timeout=5) as client:
            page = await client.get(f"{process.url}/metrics")
        page.raise_for_status()
        return handled_in(page.text)


@contextlib.asynccontextmanager
async def replicated_system(
    bootstrap: str, suffix: str, folder: Path, *, planners: int = 2
) -> AsyncIterator[ReplicatedSystem]:
    topics = RunTopics.under(f"e2e.{suffix}")
    await ensure_topics(bootstrap, topics.every, partitions=PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    # The notifier is not started: its routing file is never read.
    env = service_env(topics, bootstrap, folder / "routing.json")

    def process(name: str, log: str) -> ServiceProcess:
        return ServiceProcess(name, env, folder / log, free_port(), inherit_settings=False)

    eligibility = process("eligibility", "eligibility.log")
    replicas = [process("planner", f"planner-{n}.log") for n in range(1, planners + 1)]
    system = ReplicatedSystem(bootstrap, topics, eligibility, replicas, producer)
    try:
        for service in system.processes:
            service.start()
        await asyncio.gather(*(service.ready() for service in system.processes))
        await system.groups_settled()
        yield system
    finally:
        await asyncio.to_thread(terminate_all, system.processes)
        await producer.stop()
