"""Publishes a batch of outbox rows with one producer and says what became of each row.

A row is sent (acknowledged), parked (it can never be published: retrying it would only
hold back every row after it) or left for the next attempt (a transient failure, or a
producer that must be replaced). Which failures are permanent is decided here, once.
"""

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from aiokafka.record.default_records import DefaultRecordBatchBuilder

# aiokafka's own timeout for one request is 40 s; a batch has had its chance after that.
ACK_TIMEOUT_S = 60.0

_PARK_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (MessageSizeTooLargeError, "too_large"),
    (RecordListTooLargeError, "too_large"),
    (TopicAuthorizationFailedError, "unauthorized"),
    (InvalidTopicError, "invalid_topic"),
)


@dataclass(frozen=True, slots=True)
class PendingRow:
    id: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Parked:
    row: PendingRow
    reason: str


@dataclass
class Delivery:
    """What became of a batch; rows neither sent nor parked are published again later."""

    sent: list[PendingRow] = field(default_factory=list)
    parked: list[Parked] = field(default_factory=list)
    failure: BaseException | None = None

    def failed(self, exc: BaseException) -> None:
        self.failure = self.failure or exc


def park_reason(exc: BaseException) -> str | None:
    """The reason a row can never be published, or None when it may succeed later."""
    return next((reason for kind, reason in _PARK_REASONS if isinstance(exc, kind)), None)


def needs_new_producer(exc: BaseException) -> bool:
    """A Kafka error that no retry of the same producer cures (its sender's stored error:
    out-of-order sequence, fenced, an unexpected sender failure)."""
    return (
        isinstance(exc, KafkaError)
        and not exc.retriable
        and not isinstance(exc, KafkaTimeoutError)
        and park_reason(exc) is None
    )


def sender_is_dead(producer: AIOKafkaProducer) -> bool:
    """aiokafka's background sender has ended: every later send fails (or never completes)."""
    task = producer._sender.sender_task  # noqa: SLF001 - aiokafka exposes no liveness check
    return task is not None and bool(task.done())


def replacement_reason(producer: AIOKafkaProducer | None, *, after_fatal_error: bool) -> str | None:
    """Why the relay needs a new producer, or None while this one can send."""
    if producer is None:
        return "no_producer"
    if sender_is_dead(producer):
        return "sender_ended"
    return "fatal_error" if after_fatal_error else None


@dataclass
class MissingTopics:
    """A topic the cluster lacks parks its rows only once it has been missing for a while:
    a topic just created (not yet known to every broker) or being recreated is waited for."""

    park_after_s: float
    _since: dict[str, float] = field(default_factory=dict)

    async def check(self, producer: AIOKafkaProducer, topics: set[str]) -> dict[str, bool]:
        """The missing topics, each with whether its rows are to be parked now."""
        missing = await missing_topics(producer, topics)
        now = time.monotonic()
        for topic in topics - missing:
            self._since.pop(topic, None)
        return {t: now - self._since.setdefault(t, now) >= self.park_after_s for t in missing}


async def missing_topics(producer: AIOKafkaProducer, topics: Iterable[str]) -> set[str]:
    """Topics the cluster does not have (or does not show us). Asked only for topics the
    producer has no metadata for, so the common case costs nothing; an unreachable cluster
    raises (transient) rather than declaring every topic missing."""
    unknown = {t for t in topics if producer.client.cluster.partitions_for_topic(t) is None}
    if not unknown:
        return set()
    cluster = await producer.client.fetch_all_metadata()
    return {t for t in unknown if cluster.partitions_for_topic(t) is None}


async def publish(
    producer: AIOKafkaProducer,
    rows: Sequence[PendingRow],
    *,
    missing: MissingTopics | None = None,
    ack_timeout_s: float = ACK_TIMEOUT_S,
) -> Delivery:
    """Send the rows in batches as large as the producer makes them (`max_batch_size`), each
    partition's in row order and the partitions side by side; a partition's next batch goes
    once the one before is acknowledged, as the producer would send it anyway.

    A batch the broker refuses as too large may hold rows it would take one at a time (a
    topic whose `max.message.bytes` is below the batch size): its rows are sent again one at
    a time, in order, before the partition's next ones, and only a row refused on its own is
    parked. (A refused batch leaves a gap in the idempotent producer's sequence: the broker
    then refuses the partition's next batch as out of order, and the relay replaces the
    producer, as after any fatal error; the new one goes on from the first row not sent.)
    A row larger than the producer's largest request is parked unsent, as `send` refused it.

    A failure that is not a row's own stops its partition there, so order is kept; the
    other partitions go on. Rows from the first one for a topic the cluster lacks (and that
    is not to be parked yet, `missing`) are left for the next attempt."""
    delivery = Delivery()
    gone = await missing.check(producer, {row.topic for row in rows}) if missing else {}
    largest = producer._max_request_size  # noqa: SLF001 - aiokafka exposes no accessor
    unreadable: dict[str, BaseException | None] = {}  # topic → why it has no metadata
    partitions: dict[tuple[str, int], list[PendingRow]] = {}
    for row in rows:
        if (
            DefaultRecordBatchBuilder.estimate_size_in_bytes(row.key, row.value, row.headers)
            > largest
        ):
            delivery.parked.append(Parked(row, "too_large"))
            continue
        if row.topic in gone:
            if not gone[row.topic]:
                delivery.failed(UnknownTopicOrPartitionError(row.topic))
                break
            delivery.parked.append(Parked(row, "unknown_topic"))
            continue
        if row.topic not in unreadable:
            unreadable[row.topic] = await _metadata_missing(producer, row.topic)
        if (failure := unreadable[row.topic]) is not None:
            delivery.failed(failure)
            break
        partitions.setdefault((row.topic, _partition_of(producer, row)), []).append(row)
    sending = (
        _PartitionSender(producer, topic, partition, delivery, ack_timeout_s).send(queued)
        for (topic, partition), queued in partitions.items()
    )
    await asyncio.gather(*sending)
    delivery.sent.sort(key=lambda row: row.id)
    delivery.parked.sort(key=lambda parked: parked.row.id)
    return delivery


async def _metadata_missing(producer: AIOKafkaProducer, topic: str) -> BaseException | None:
    """None once the producer knows the topic's partitions (fetched if need be), else why not."""
    try:
        await producer.partitions_for(topic)
    except Exception as exc:  # noqa: BLE001 - the rows stop at the topic's first
        return exc
    return None


def _partition_of(producer: AIOKafkaProducer, row: PendingRow) -> int:
    """The partition `send` would choose for the row: the producer's own partitioner."""
    return int(producer._partition(row.topic, None, row.key, row.value, row.key, row.value))  # noqa: SLF001


@dataclass(frozen=True, slots=True)
class _PartitionSender:
    """One partition's rows of a `publish`, a batch at a time."""

    producer: AIOKafkaProducer
    topic: str
    partition: int
    delivery: Delivery
    ack_timeout_s: float

    async def send(self, rows: Sequence[PendingRow]) -> None:
        at = 0
        while at < len(rows):
            batch, taken = self._batch_of(rows[at:])
            refused = await self._acknowledged(batch)
            together = rows[at : at + taken]
            if refused is None:
                self.delivery.sent += together
            elif park_reason(refused) is None:
                self.delivery.failed(refused)
                return
            elif taken == 1:
                self.delivery.parked.append(Parked(together[0], park_reason(refused) or ""))
            elif not await self._one_by_one(together):
                return
            at += taken

    async def _one_by_one(self, rows: Sequence[PendingRow]) -> bool:
        """Each row in a batch of its own, in order; False once one fails for a reason that
        is not its own."""
        for row in rows:
            batch, _ = self._batch_of([row])
            refused = await self._acknowledged(batch)
            if refused is None:
                self.delivery.sent.append(row)
            elif (reason := park_reason(refused)) is not None:
                self.delivery.parked.append(Parked(row, reason))
            else:
                self.delivery.failed(refused)
                return False
        return True

    def _batch_of(self, rows: Sequence[PendingRow]) -> tuple[Any, int]:
        """A batch of the first rows, as many as fit (the first always does), and their count."""
        batch = self.producer.create_batch()
        taken = 0
        for row in rows:
            if (
                batch.append(timestamp=None, key=row.key, value=row.value, headers=row.headers)
                is None
            ):
                break  # full: the batch is closed
            taken += 1
        return batch, taken

    async def _acknowledged(self, batch: Any) -> BaseException | None:
        """None once the broker has acknowledged the batch, else why not."""
        try:
            future = await self.producer.send_batch(batch, self.topic, partition=self.partition)
            await asyncio.wait_for(future, self.ack_timeout_s)
        except TimeoutError:
            return TimeoutError("no acknowledgement in time")
        except Exception as exc:  # noqa: BLE001 - classified by the caller
            return exc
        return None
