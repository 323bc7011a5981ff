"""`courseflow dead-letters list|replay`: inspect dead letters and re-inject them.

A replay sends the original bytes and key back to the topic they came from
(`x-source-topic`); rejected events leave no inbox row behind, so the services handle the
replayed copy afresh once the cause (e.g. a session reported before its course) is fixed.

Once per original record: each replayed copy carries `x-replayed-from` naming the original
record (`<source topic>/<partition>@<offset>`), and a replay first reads the target topics
(from the time of the oldest letter it is asked to replay, as no copy can be older) for
those markers and skips letters already replayed. Two consumers that dead-lettered the same
record give one replay. The marker lives with the data it describes: when a source topic is
recreated its old copies go with it, so a new record that reuses an old offset is replayed,
which a table kept apart from the topic would wrongly skip.
"""

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

REPLAYED_FROM = "x-replayed-from"
REPLAYED_LETTER = "x-replayed-letter"
# The copies are stamped by this host's clock, the letters by the services' hosts' clocks.
CLOCK_SKEW_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    timestamp_ms: int = 0

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str | None:
        return self.headers.get("x-source-topic") or None

    @property
    def origin(self) -> str:
        """The original record this letter is about, as the replayed copy's marker names it."""
        h = self.headers
        return f"{h.get('x-source-topic')}/{h.get('x-source-partition')}@{h.get('x-source-offset')}"

    def describe(self) -> str:
        h = self.headers
        key = self.key.decode(errors="replace") if self.key else "-"
        return (f"{self.position:<8} {h.get('x-consumer', '?'):<12} key={key:<20} "
                f"from {self.origin}: {h.get('x-error', '?')}")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    send: list[DeadLetter] = field(default_factory=list)
    already: list[DeadLetter] = field(default_factory=list)  # replayed before (or twice here)
    refused: list[tuple[DeadLetter, str]] = field(default_factory=list)


def plan_replay(
    letters: Iterable[DeadLetter], *, replayed: set[str], topics: set[str]
) -> ReplayPlan:
    """Which letters to send (pure): one per original record not replayed yet, to a topic
    that exists; a letter naming no source topic or an unknown one is refused."""
    plan = ReplayPlan()
    chosen = set(replayed)
    for letter in letters:
        topic = letter.source_topic
        if topic is None:
            plan.refused.append((letter, "the dead letter names no source topic (x-source-topic)"))
        elif topic not in topics:
            plan.refused.append((letter, f"unknown source topic {topic}"))
        elif letter.origin in chosen:
            plan.already.append(letter)
        else:
            chosen.add(letter.origin)
            plan.send.append(letter)
    return plan


def _headers(record: Any) -> dict[str, str]:
    return {k: bytes(v).decode(errors="replace") for k, v in record.headers or ()}


async def _read(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], timeout_s: float
) -> list[Any]:
    """Every record of `partitions` from the consumer's positions to the current ends."""
    ends = await consumer.end_offsets(partitions)
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"could not read {sorted({tp.topic for tp in partitions})}")
        batch = await consumer.getmany(*partitions, timeout_ms=500)
        for tp, got in batch.items():
            records += [r for r in got if r.offset < ends[tp]]
    return records


async def topic_partitions(bootstrap: str, options: Mapping[str, Any]) -> dict[str, list[int]]:
    """Every topic of the cluster with its partition numbers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    try:
        described = await admin.describe_topics()
    finally:
        await admin.close()
    return {t["topic"]: sorted(p["partition"] for p in t["partitions"]) for t in described}


def _consumer(bootstrap: str, options: Mapping[str, Any]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **options
    )


async def read_all(
    bootstrap: str, topic: str, *, options: Mapping[str, Any] | None = None,
    timeout_s: float = 30.0,
) -> list[DeadLetter]:  # fmt: skip
    options = options or {}
    partitions = [
        TopicPartition(topic, p)
        for p in (await topic_partitions(bootstrap, options)).get(topic, [])
    ]
    if not partitions:
        return []
    consumer = _consumer(bootstrap, options)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records = await _read(consumer, partitions, timeout_s)
    finally:
        await consumer.stop()
    letters = [
        DeadLetter(r.partition, r.offset, r.key, r.value or b"", _headers(r), r.timestamp)
        for r in records
    ]
    return sorted(letters, key=lambda d: (d.partition, d.offset))


async def replayed_origins(
    bootstrap: str, partitions: list[TopicPartition], since_ms: int, *,
    options: Mapping[str, Any], timeout_s: float = 120.0,
) -> set[str]:  # fmt: skip
    """The `x-replayed-from` markers found in `partitions` on records written since `since_ms`."""
    if not partitions:
        return set()
    consumer = _consumer(bootstrap, options)
    await consumer.start()
    try:
        consumer.assign(partitions)
        starts = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
        for tp in partitions:
            found = starts.get(tp)
            if found is None:  # nothing written since: start at the end
                await consumer.seek_to_end(tp)
            else:
                consumer.seek(tp, found.offset)
        records = await _read(consumer, partitions, timeout_s)
    finally:
        await consumer.stop()
    return {marker for r in records if (marker := _headers(r).get(REPLAYED_FROM))}


async def replay(
    bootstrap: str, letters: list[DeadLetter], dead_letters_topic: str, *,
    options: Mapping[str, Any] | None = None,
) -> ReplayPlan:  # fmt: skip
    """Send each letter's original once to its source topic; returns what was done."""
    options = options or {}
    existing = await topic_partitions(bootstrap, options)
    topics = set(existing) - {dead_letters_topic}
    targets = {t for letter in letters if (t := letter.source_topic) in topics}
    since = min((letter.timestamp_ms for letter in letters), default=0) - CLOCK_SKEW_MS
    partitions = [TopicPartition(t, p) for t in sorted(targets) for p in existing[t]]
    replayed = await replayed_origins(bootstrap, partitions, since, options=options)
    plan = plan_replay(letters, replayed=replayed, topics=topics)
    if not plan.send:
        return plan
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **options
    )
    await producer.start()
    try:
        for letter in plan.send:
            assert letter.source_topic is not None  # the plan sends only letters naming one
            await producer.send_and_wait(
                letter.source_topic, letter.value, key=letter.key,
                headers=[(REPLAYED_FROM, letter.origin.encode()),
                         (REPLAYED_LETTER, f"{dead_letters_topic}/{letter.position}".encode())],
            )  # fmt: skip
    finally:
        await producer.stop()
    return plan
