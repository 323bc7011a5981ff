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
    """Send the batch in row order before awaiting any acknowledgement (pipelined); stop
    sending at the first failure that is not the row's own, so order is kept. Rows for
    topics the cluster lacks are checked for with `missing` (without it, they fail as
    aiokafka fails them: transient, after its request timeout)."""
    delivery = Delivery()
    gone = await missing.check(producer, {row.topic for row in rows}) if missing else {}
    in_flight: list[tuple[PendingRow, asyncio.Future[Any]]] = []
    for row in rows:
        if row.topic in gone:
            if not gone[row.topic]:
                delivery.failed(UnknownTopicOrPartitionError(row.topic))
                break
            delivery.parked.append(Parked(row, "unknown_topic"))
            continue
        try:
            future = await producer.send(row.topic, row.value, key=row.key, headers=row.headers)
        except Exception as exc:  # noqa: BLE001 - classified: parked, or the batch stops here
            if (reason := park_reason(exc)) is None:
                delivery.failed(exc)
                break
            delivery.parked.append(Parked(row, reason))
        else:
            in_flight.append((row, future))
    if in_flight:
        await asyncio.wait([future for _, future in in_flight], timeout=ack_timeout_s)
    for row, future in in_flight:
        _settle(delivery, row, future)
    return delivery


def _settle(delivery: Delivery, row: PendingRow, future: asyncio.Future[Any]) -> None:
    if not future.done() or future.cancelled():
        delivery.failed(TimeoutError("no acknowledgement in time"))
    elif (exc := future.exception()) is None:
        delivery.sent.append(row)
    elif (reason := park_reason(exc)) is not None:
        delivery.parked.append(Parked(row, reason))
    else:
        delivery.failed(exc)
