"""Publishes committed outbox rows to Kafka, each partition's in row order, then marks them sent.

At-least-once by design: a relay that dies after publishing and before marking publishes
those rows again on restart, and consumers drop the duplicates by event id (the inbox).
One relay per schema holds an advisory lock, so per-patient order is kept across replicas.

Nothing stops the relay for good: a row that can never be published is parked (set aside,
counted, logged, listed by `courseflow outbox parked`) and the rows after it go out; a
producer whose sender died is replaced by a new one; transient failures are retried with
backoff, in order. `healthy()` says whether the relay can publish.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from services.runtime.db import Conn
from services.runtime.locks import LockNamespace, lock_session, unlock_session
from services.runtime.metrics import Metrics
from services.runtime.outbox import headers_from_json, notify_channel
from services.runtime.publish import (
    MissingTopics,
    Parked,
    PendingRow,
    needs_new_producer,
    publish,
    replacement_reason,
    sender_is_dead,
)

__all__ = ["OutboxRelay", "PendingRow", "fetch_pending", "publish"]

_STOP_PRODUCER_TIMEOUT_S = 10.0
_STANDBY_AFTER_S = 1.0


async def fetch_pending(conn: Conn, limit: int) -> list[PendingRow]:
    rows = await conn.fetch(
        "SELECT id, topic, key, value, headers::text AS headers FROM outbox "
        "WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1",
        limit,
    )
    return [
        PendingRow(r["id"], r["topic"], r["key"], r["value"], headers_from_json(r["headers"]))
        for r in rows
    ]


async def mark_sent(conn: Conn, rows: Sequence[PendingRow]) -> None:
    if rows:
        await conn.execute(
            "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [r.id for r in rows]
        )


async def park(conn: Conn, parked: Sequence[Parked]) -> None:
    if parked:
        await conn.execute(
            "UPDATE outbox SET parked_at = now(), park_reason = p.reason "
            "FROM unnest($1::bigint[], $2::text[]) AS p(id, reason) WHERE outbox.id = p.id",
            [p.row.id for p in parked],
            [p.reason for p in parked],
        )


@dataclass(frozen=True, slots=True)
class OutboxState:
    backlog: int
    oldest_unsent_age_s: float
    parked: int


async def outbox_state(conn: Conn) -> OutboxState:
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE parked_at IS NULL) AS backlog, "
        "count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked, "
        "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL)),"
        " 0)::float8 AS oldest FROM outbox WHERE sent_at IS NULL"
    )
    assert row is not None  # an aggregate always returns a row
    return OutboxState(int(row["backlog"]), max(float(row["oldest"]), 0.0), int(row["parked"]))


async def backlog(conn: Conn) -> int:
    return (await outbox_state(conn)).backlog


@dataclass
class OutboxRelay:
    pool: asyncpg.Pool
    build_producer: Callable[[], AIOKafkaProducer]
    schema: str
    batch_size: int = 500
    poll_interval_s: float = 5.0
    unhealthy_after_s: float = 30.0
    metrics_interval_s: float = 5.0
    park_missing_topic_after_s: float = 60.0
    log: Any = field(default_factory=structlog.get_logger)
    metrics: Metrics | None = None
    published: int = 0
    _producer: AIOKafkaProducer | None = None
    _suspect_producer: bool = False
    _failing_since: float | None = None
    _lock_wait_since: float | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _missing: MissingTopics = field(init=False)

    def __post_init__(self) -> None:
        self._missing = MissingTopics(self.park_missing_topic_after_s)

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError(f"the outbox relay of {self.schema} has no producer")
        return self._producer

    async def open(self) -> None:
        """Build and start the first producer (a misconfigured one fails the start-up)."""
        self._producer = await self._started_producer()

    async def close(self) -> None:
        await self.stop()
        producer, self._producer = self._producer, None
        if producer is not None:
            await _stop_quietly(producer)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}"),
            asyncio.create_task(self._observe(), name=f"outbox-metrics-{self.schema}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def healthy(self) -> bool:
        """Able to publish: a producer whose sender runs, and no failure that has lasted
        past the grace period (a replica waiting for the lock as standby is healthy)."""
        if self._producer is not None and sender_is_dead(self._producer):
            return False
        if self._failing_since is None or self._standby():
            return True
        return time.monotonic() - self._failing_since < self.unhealthy_after_s

    def _standby(self) -> bool:
        """Waiting for the lock longer than taking a free one takes: another replica leads."""
        waiting = self._lock_wait_since
        return waiting is not None and time.monotonic() - waiting >= _STANDBY_AFTER_S

    def _leading(self) -> None:
        if self._standby():
            self._failing_since = None  # a failure from before the standby is stale
        self._lock_wait_since = None

    async def drain_once(self, conn: Conn) -> int:
        """Publish one batch; return how many rows it settled (sent or parked)."""
        self._leading()
        producer = await self._usable_producer()
        rows = await fetch_pending(conn, self.batch_size)
        if not rows:
            self._failing_since = None
            return 0
        delivery = await publish(producer, rows, missing=self._missing)
        await mark_sent(conn, delivery.sent)
        await park(conn, delivery.parked)
        self._count(delivery.sent, delivery.parked)
        if delivery.failure is not None:
            self._suspect_producer = needs_new_producer(delivery.failure)
            raise delivery.failure
        self._failing_since = None
        return len(delivery.sent) + len(delivery.parked)

    def _count(self, sent: Sequence[PendingRow], parked: Sequence[Parked]) -> None:
        self.published += len(sent)
        for p in parked:
            # One line per parked row; never the payload.
            self.log.error("outbox row parked", message_id=p.row.id, topic=p.row.topic,
                           reason=p.reason, schema=self.schema)  # fmt: skip
        if self.metrics is not None:
            self.metrics.outbox_published(self.schema, sent)
            for p in parked:
                self.metrics.outbox_parked.labels(self.schema, p.reason).inc()

    async def _usable_producer(self) -> AIOKafkaProducer:
        producer = self._producer
        reason = replacement_reason(producer, after_fatal_error=self._suspect_producer)
        if producer is not None and reason is None:
            return producer
        self.log.warning("replacing the outbox producer", reason=reason, schema=self.schema)
        self._producer = None
        if producer is not None:
            await _stop_quietly(producer)
        self._producer = await self._started_producer()
        self._suspect_producer = False
        if self.metrics is not None:
            self.metrics.producer_replaced.labels(self.schema).inc()
        return self._producer

    async def _started_producer(self) -> AIOKafkaProducer:
        producer = self.build_producer()
        try:
            await producer.start()
        except BaseException:
            await _stop_quietly(producer)
            raise
        return producer

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            self._lock_wait_since = time.monotonic()
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the relay must outlive any one failure
                self._lock_wait_since = None
                if self._failing_since is None:  # the first failure since publishing worked
                    self._failing_since, backoff = time.monotonic(), 0.1
                self.log.warning("outbox relay failed; retrying", error=type(exc).__name__,
                                 schema=self.schema, retry_in_s=backoff)  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            else:
                backoff = 0.1

    async def _lead(self) -> None:
        async with self.pool.acquire() as conn:
            lock = f"outbox-relay:{self.schema}"
            await lock_session(conn, LockNamespace.RELAY, lock)
            channel = notify_channel(self.schema)
            await conn.add_listener(channel, self._on_notify)
            try:
                while True:
                    self._wake.clear()
                    if await self.drain_once(conn) == self.batch_size:
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
            finally:
                await conn.remove_listener(channel, self._on_notify)
                await unlock_session(conn, LockNamespace.RELAY, lock)

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _observe(self) -> None:
        """Backlog, age of the oldest unsent row and parked rows, on every replica, whether
        or not its relay leads or publishes (a stuck relay shows as a growing age)."""
        while True:
            if self.metrics is not None:
                with contextlib.suppress(Exception):  # an unreachable database shows in /health
                    async with self.pool.acquire(timeout=5) as conn:
                        self.metrics.outbox(self.schema, await outbox_state(conn))
            await asyncio.sleep(self.metrics_interval_s)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    """Stop a producer that may be dead or unable to reach the cluster: best effort."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), _STOP_PRODUCER_TIMEOUT_S)
