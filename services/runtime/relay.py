"""Publishes committed outbox rows to Kafka, in row order, then marks them sent.

At-least-once by design: a relay that dies after publishing and before marking publishes
those rows again on restart, and consumers drop the duplicates by event id (the inbox).
One relay per schema holds an advisory lock, so per-patient order is kept across replicas.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from services.runtime.db import Conn
from services.runtime.locks import LockNamespace, lock_session, unlock_session
from services.runtime.metrics import Metrics
from services.runtime.outbox import headers_from_json, notify_channel


@dataclass(frozen=True, slots=True)
class PendingRow:
    id: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


async def fetch_pending(conn: Conn, limit: int) -> list[PendingRow]:
    rows = await conn.fetch(
        "SELECT id, topic, key, value, headers::text AS headers FROM outbox "
        "WHERE sent_at IS NULL ORDER BY id LIMIT $1",
        limit,
    )
    return [
        PendingRow(r["id"], r["topic"], r["key"], r["value"], headers_from_json(r["headers"]))
        for r in rows
    ]


async def publish(producer: AIOKafkaProducer, rows: list[PendingRow]) -> None:
    """Send the whole batch before awaiting any acknowledgement (pipelined, order kept)."""
    futures = [
        await producer.send(row.topic, row.value, key=row.key, headers=row.headers) for row in rows
    ]
    await asyncio.gather(*futures)


async def mark_sent(conn: Conn, rows: list[PendingRow]) -> None:
    await conn.execute(
        "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [r.id for r in rows]
    )


async def backlog(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))


@dataclass
class OutboxRelay:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    schema: str
    batch_size: int = 500
    poll_interval_s: float = 1.0
    log: Any = field(default_factory=structlog.get_logger)
    metrics: Metrics | None = None
    published: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain_once(self, conn: Conn) -> int:
        rows = await fetch_pending(conn, self.batch_size)
        if rows:
            await publish(self.producer, rows)
            await mark_sent(conn, rows)
            self.published += len(rows)
        if self.metrics is not None:
            self.metrics.published.labels(self.schema).inc(len(rows))
            pending = await backlog(conn) if len(rows) < self.batch_size else None
            if pending is not None:
                self.metrics.outbox_backlog.labels(self.schema).set(pending)
        return len(rows)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the relay must outlive any one failure
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
