"""One consumed batch → one Postgres transaction: inbox rows, state changes, outbox rows.

The Kafka offset is committed by the caller only after this transaction commits, so a crash
in between redelivers the batch and the inbox turns the redelivery into a no-op. Bad input is
dead-lettered inside the same transaction and never blocks the partition; transient failures
are retried and, if they last, re-raised so the consumer rewinds and tries again later.

A batch first runs without a savepoint per event (two round trips fewer per event): a
handler raises `Rejected` before it writes anything, so a rejected event only needs its
inbox row taken back. Should a handler fail in any other way, the batch is rolled back and
run again with a savepoint around every event, so only the failing event is dead-lettered.
"""

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import asyncpg

from services.runtime.db import Conn
from services.runtime.deadletters import dead_letter
from services.runtime.inbox import first_deliveries, first_delivery, forget_delivery
from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.retry import is_transient, retry_transient

_handling: ContextVar[Incoming | None] = ContextVar("handling", default=None)


def current_incoming() -> Incoming | None:
    """The record being handled, for handlers that must name it (e.g. in a later dead letter)."""
    return _handling.get()


class Rejected(Exception):  # noqa: N818 - a verdict on the input, not a fault of ours
    """The input cannot be used; `reason` is one line and never contains input values.

    Raise it before writing anything: a batch's first run keeps no savepoint per event.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Envelope(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def correlationid(self) -> str | None: ...


E = TypeVar("E", bound=Envelope)
Process = Callable[[Conn, E], Awaitable[Sequence[OutboxMessage]]]
# Wraps the events of a batch's fast run, given the patients (subjects) about to be handled:
# a service may load their states in one query and write back the changed ones at the end.
BatchScope = Callable[[Conn, Sequence[str]], AbstractAsyncContextManager[None]]


@dataclass
class BatchResult:
    handled: int = 0
    duplicates: int = 0
    dead_letters: int = 0


class _HandlerError(Exception):
    """A handler failed in a way that is neither transient nor a `Rejected` verdict."""


@contextmanager
def _handling_of(incoming: Incoming) -> Iterator[None]:
    token = _handling.set(incoming)
    try:
        yield
    finally:
        _handling.reset(token)


_HandleEvents = Callable[[Conn, Sequence[Incoming], BatchResult], Awaitable[list[OutboxMessage]]]


@dataclass
class Pipeline(Generic[E]):
    consumer: str
    schema: str
    decode: Callable[[bytes], E]
    process: Process[E]
    dead_letter_topic: str
    log: Any
    batch_scope: BatchScope | None = None

    async def handle(self, pool: asyncpg.Pool, records: Sequence[Incoming]) -> BatchResult:
        return await retry_transient(lambda: self._in_one_transaction(pool, records), log=self.log)

    async def _in_one_transaction(
        self, pool: asyncpg.Pool, records: Sequence[Incoming]
    ) -> BatchResult:
        try:
            return await self._run(pool, records, self._events_fast)
        except _HandlerError as failed:
            self.log.warning(
                "batch rolled back; run again with a savepoint per event",
                error=type(failed.__cause__).__name__, batch_size=len(records),
            )  # fmt: skip
            return await self._run(pool, records, self._events_carefully)

    async def _run(
        self, pool: asyncpg.Pool, records: Sequence[Incoming], handle_events: _HandleEvents
    ) -> BatchResult:
        result = BatchResult()
        async with pool.acquire() as conn, conn.transaction():
            await lock_keys(conn, self.schema, [r.key for r in records])
            outputs = await handle_events(conn, records, result)
            await enqueue(conn, self.schema, outputs)
        return result

    async def _events_fast(
        self, conn: Conn, records: Sequence[Incoming], result: BatchResult
    ) -> list[OutboxMessage]:
        """The whole batch's inbox rows in one statement, no savepoint per event."""
        decoded = [self._decoded(incoming) for incoming in records]
        keys = [(e.source, e.id) for e in decoded if not isinstance(e, Rejected)]
        first = await first_deliveries(conn, self.consumer, keys)
        subjects = [e.subject for e in decoded if not isinstance(e, Rejected)]
        outputs: list[OutboxMessage] = []
        async with self._scope(conn, subjects):
            for incoming, event in zip(records, decoded, strict=True):
                with _handling_of(incoming):
                    outputs += await self._handle_fast(conn, incoming, event, first, result)
        return outputs

    async def _events_carefully(
        self, conn: Conn, records: Sequence[Incoming], result: BatchResult
    ) -> list[OutboxMessage]:
        outputs: list[OutboxMessage] = []
        for incoming in records:
            with _handling_of(incoming):
                outputs += await self._handle_one(conn, incoming, result)
        return outputs

    def _scope(self, conn: Conn, subjects: Sequence[str]) -> AbstractAsyncContextManager[None]:
        return nullcontext() if self.batch_scope is None else self.batch_scope(conn, subjects)

    def _decoded(self, incoming: Incoming) -> E | Rejected:
        try:
            return self.decode(incoming.value)
        except Rejected as exc:
            return exc

    async def _handle_fast(
        self,
        conn: Conn,
        incoming: Incoming,
        event: E | Rejected,
        first: set[tuple[str, str]],
        result: BatchResult,
    ) -> list[OutboxMessage]:
        if isinstance(event, Rejected):
            return await self._dead_once(conn, incoming, event.reason, result, self.log)
        started = time.perf_counter()
        log = self.log.bind(
            event_id=event.id, event_type=event.type, patient_id=event.subject,
            correlation_id=event.correlationid,
        )  # fmt: skip
        if (event.source, event.id) not in first:  # stored before, or earlier in this batch
            result.duplicates += 1
            log.info("duplicate skipped")
            return []
        first.discard((event.source, event.id))
        try:
            outputs = list(await self.process(conn, event))
        except Rejected as exc:
            # Nothing was written but the inbox row, which a replay must not find.
            await forget_delivery(conn, self.consumer, event.source, event.id)
            return await self._dead_once(conn, incoming, exc.reason, result, log)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _HandlerError from exc
        result.handled += 1
        log.info("handled", published=len(outputs), latency_ms=_ms_since(started))
        return outputs

    async def _handle_one(
        self, conn: Conn, incoming: Incoming, result: BatchResult
    ) -> list[OutboxMessage]:
        started = time.perf_counter()
        try:
            event = self.decode(incoming.value)
        except Rejected as exc:
            return await self._dead_once(conn, incoming, exc.reason, result, self.log)
        log = self.log.bind(
            event_id=event.id, event_type=event.type, patient_id=event.subject,
            correlation_id=event.correlationid,
        )  # fmt: skip
        try:
            # A savepoint: a rejected event leaves no state and no inbox row behind, so an
            # operator can replay it from the dead letters once its cause is fixed.
            async with conn.transaction():
                if not await first_delivery(conn, self.consumer, event.source, event.id):
                    result.duplicates += 1
                    log.info("duplicate skipped")
                    return []
                outputs = list(await self.process(conn, event))
        except Rejected as exc:
            return await self._dead_once(conn, incoming, exc.reason, result, log)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception("handler failed; dead-lettered", error=type(exc).__name__)
            reason = f"handler failed: {type(exc).__name__}"
            return await self._dead_once(conn, incoming, reason, result, log)
        result.handled += 1
        log.info("handled", published=len(outputs), latency_ms=_ms_since(started))
        return outputs

    async def _dead_once(
        self, conn: Conn, incoming: Incoming, reason: str, result: BatchResult, log: Any
    ) -> list[OutboxMessage]:
        """Dead-letter a record once, even if it is redelivered (keyed by its position)."""
        source = f"kafka:{incoming.topic}/{incoming.partition}"
        if not await first_delivery(conn, self.consumer, source, str(incoming.offset)):
            result.duplicates += 1
            return []
        result.dead_letters += 1
        log.warning(
            "dead-lettered", reason=reason, topic=incoming.topic,
            partition=incoming.partition, offset=incoming.offset,
        )  # fmt: skip
        message = dead_letter(
            incoming, reason=reason, consumer=self.consumer, topic=self.dead_letter_topic
        )
        return [message]


async def lock_keys(conn: Conn, schema: str, keys: Sequence[bytes | None]) -> None:
    """Take every message key's lock for the rest of the transaction, in one global order.

    A service consuming two topics (the planner) handles one patient from two batches at
    once; taking all of a batch's patient locks up front, always in the same order, makes
    those batches queue instead of deadlocking on each other's row locks.
    """
    names = sorted({f"{schema}:{key.decode(errors='replace')}" for key in keys if key})
    if names:
        # Volatile functions in the select list run after ORDER BY: locks follow the order.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(h) FROM "
            "(SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k) AS keys ORDER BY h",
            names,
        )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
