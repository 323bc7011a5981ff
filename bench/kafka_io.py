"""Kafka side of the harness: the clinic's producer, the notice watcher, consumer-group lag."""

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.workload import Message
from schemas.codec import CONTENT_TYPE

HEADERS = [("content-type", CONTENT_TYPE.encode())]
LINGER_MS = 5  # what the services' outbox producers use


def producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, client_id=client_id, acks="all",
        enable_idempotence=True, linger_ms=LINGER_MS,
    )  # fmt: skip


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name=n, num_partitions=partitions, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def send_all(
    prod: AIOKafkaProducer, topic: str, messages: Sequence[Message], *,
    rate: float | None, deadline: float,
) -> dict[str, float]:  # fmt: skip
    """Send as fast as possible, or `rate` per second; return the send time per correlation id.

    The send time is when the clinic hands the event to its producer (perf_counter), not the
    broker's acknowledgement: latency is what the clinic sees.
    """
    sent: dict[str, float] = {}
    futures: list[asyncio.Future[Any]] = []
    start = time.perf_counter()
    for i, message in enumerate(messages):
        if rate is not None:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0.001:
                await asyncio.sleep(delay)
        if time.perf_counter() > deadline:
            raise TimeoutError("sending took longer than the run's deadline")
        sent[message.correlation_id] = time.perf_counter()
        futures.append(await prod.send(topic, message.value, key=message.key, headers=HEADERS))
        if len(futures) >= 5000:  # keep memory bounded; acks pipeline meanwhile
            await asyncio.gather(*futures)
            futures.clear()
    await asyncio.gather(*futures)
    return sent


@dataclass
class NoticeWatcher:
    """Reads the notices topic from the start; first and last notice per correlation id."""

    bootstrap: str
    topic: str
    first: dict[str, float] = field(default_factory=dict)
    count: int = 0
    uncorrelated: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    last_seen: float = 0.0
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest",
            enable_auto_commit=False, group_id=None,
        )  # fmt: skip
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=2000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    self._seen(record.value, now)

    def _seen(self, value: bytes, now: float) -> None:
        self.count += 1
        self.last_seen = now
        event = json.loads(value)
        data = event.get("data", {})
        self.kinds[data.get("kind", "?")] = self.kinds.get(data.get("kind", "?"), 0) + 1
        delivery = data.get("delivery", "?")
        self.deliveries[delivery] = self.deliveries.get(delivery, 0) + 1
        correlation = event.get("correlationid")
        if not correlation:
            self.uncorrelated += 1
            return
        self.first.setdefault(correlation, now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


@dataclass
class LagProbe:
    """Committed offsets of a consumer group against the end offsets of the topics it reads."""

    bootstrap: str
    admin: AIOKafkaAdminClient | None = None
    consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.admin.start()
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await self.consumer.start()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        if self.admin is not None:
            await self.admin.close()

    async def end_offsets(self, topic: str) -> dict[TopicPartition, int]:
        assert self.consumer is not None
        partitions = self.consumer.partitions_for_topic(topic)
        if not partitions:
            await self.consumer._client.force_metadata_update()  # noqa: SLF001 - no public call
            partitions = self.consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        return dict(await self.consumer.end_offsets(tps)) if tps else {}

    async def lag(self, group: str, topics: Sequence[str]) -> int:
        """Messages of `topics` not yet committed by `group` (unknown partitions count fully)."""
        assert self.admin is not None
        committed = await self.admin.list_consumer_group_offsets(group)
        total = 0
        for topic in topics:
            for tp, end in (await self.end_offsets(topic)).items():
                meta = committed.get(tp)
                total += end - (meta.offset if meta is not None and meta.offset >= 0 else 0)
        return total

    async def size(self, topic: str) -> int:
        return sum((await self.end_offsets(topic)).values())
