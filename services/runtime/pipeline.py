"""One consumed batch → one Postgres transaction: inbox rows, state changes, outbox rows.

The Kafka offset is committed by the caller only after the batch's transactions commit, so
a crash in between redelivers the batch and the inbox turns the redelivery into a no-op. Bad
input is dead-lettered inside the same transaction and never blocks the partition; transient
failures are retried and, if they last, re-raised so the consumer rewinds and tries again.

Every value taken from a record is checked before SQL sees it (the key, the inbox key), and
a batch runs without a savepoint per event: a handler raises `Rejected` before it writes
anything, so a rejected event only needs its inbox row taken back. Should the transaction
fail in any other way (a handler's bug, a statement the database refuses), the batch is
isolated: run again in halves, each in its own transaction and in order, down to the one
record that fails, which is dead-lettered alone.
"""

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import asyncpg

from services.runtime.db import Conn
from services.runtime.deadletters import dead_letter, dead_letter_id
from services.runtime.inbox import first_deliveries, first_delivery, forget_delivery
from services.runtime.incoming import Incoming, input_problem
from services.runtime.locks import LockNamespace, limit_lock_waits, lock_keys
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.retry import is_transient, retry_transient

_handling: ContextVar[Incoming | None] = ContextVar("handling", default=None)

T = TypeVar("T")


def current_incoming() -> Incoming | None:
    """The record being handled, for handlers that must name it (e.g. in a later dead letter)."""
    return _handling.get()


class Rejected(Exception):  # noqa: N818 - a verdict on the input, not a fault of ours
    """The input cannot be used; `reason` is one line and never contains input values.

    Raise it before writing anything: a batch keeps no savepoint per event.
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
# Wraps the events of a batch, given the patients (subjects) about to be handled: a service
# may load their states in one query and write back the changed ones at the end.
BatchScope = Callable[[Conn, Sequence[str]], AbstractAsyncContextManager[None]]


def subject_of(event: Envelope) -> str:
    """The record key of a patient topic (CONTRACT.md: key = subject)."""
    return event.subject


@dataclass
class BatchResult:
    handled: int = 0
    duplicates: int = 0
    dead_letters: int = 0

    def add(self, other: "BatchResult") -> None:
        self.handled += other.handled
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters


class _HandlerError(Exception):
    """A handler failed in a way that is neither transient nor a `Rejected` verdict."""


class _UnprocessableError(Exception):
    """A transaction failed for a reason that is neither transient nor `Rejected`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@contextmanager
def _handling_of(incoming: Incoming) -> Iterator[None]:
    token = _handling.set(incoming)
    try:
        yield
    finally:
        _handling.reset(token)


@dataclass
class Pipeline(Generic[E]):
    consumer: str
    schema: str
    decode: Callable[[bytes], E]
    process: Process[E]
    dead_letter_topic: str
    log: Any
    batch_scope: BatchScope | None = None
    # The record key an event must carry, named in dead letters (the staff topic: clinic_id).
    key_of: Callable[[E], str] = subject_of
    key_name: str = "subject"
    lock_namespace: LockNamespace = LockNamespace.PATIENT
    lock_timeout_ms: int = 10_000
    give_up_after_s: float = 60.0

    async def handle(self, pool: asyncpg.Pool, records: Sequence[Incoming]) -> BatchResult:
        result = BatchResult()
        await self._isolating(pool, records, result)
        return result

    async def _isolating(
        self, pool: asyncpg.Pool, records: Sequence[Incoming], result: BatchResult
    ) -> None:
        try:
            result.add(await self._retrying(lambda: self._in_one_transaction(pool, records)))
        except _UnprocessableError as failed:
            if len(records) == 1:
                await self._confirmed_or_dead(pool, records[0], result)
                return
            self.log.warning(
                "batch failed; run again in halves", reason=failed.reason,
                batch_size=len(records),
            )  # fmt: skip
            half = len(records) // 2
            await self._isolating(pool, records[:half], result)
            await self._isolating(pool, records[half:], result)

    async def _confirmed_or_dead(
        self, pool: asyncpg.Pool, incoming: Incoming, result: BatchResult
    ) -> None:
        """A lone record is dead-lettered only when it fails a second time: a failure of the
        moment (a connection a database crash left broken) must not cost a valid event."""
        try:
            result.add(await self._retrying(lambda: self._in_one_transaction(pool, [incoming])))
        except _UnprocessableError as again:
            reason = again.reason
            self.log.warning("record failed twice; dead-lettered", reason=reason)
            result.add(await self._retrying(lambda: self._dead_alone(pool, incoming, reason)))

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await retry_transient(attempt, log=self.log, give_up_after_s=self.give_up_after_s)

    async def _in_one_transaction(
        self, pool: asyncpg.Pool, records: Sequence[Incoming]
    ) -> BatchResult:
        result = BatchResult()
        try:
            async with pool.acquire() as conn, conn.transaction():
                await limit_lock_waits(conn, self.lock_timeout_ms)
                outputs = await self._events(conn, records, result)
                await enqueue(conn, self.schema, outputs)
        except _HandlerError as failed:
            raise _UnprocessableError(
                f"handler failed: {type(failed.__cause__).__name__}"
            ) from failed
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _UnprocessableError(f"could not be processed: {type(exc).__name__}") from exc
        return result

    async def _dead_alone(self, pool: asyncpg.Pool, incoming: Incoming, reason: str) -> BatchResult:
        result = BatchResult()
        async with pool.acquire() as conn, conn.transaction():
            await limit_lock_waits(conn, self.lock_timeout_ms)
            outputs = await self._dead_once(conn, incoming, reason, result, self.log)
            await enqueue(conn, self.schema, outputs)
        return result

    async def _events(
        self, conn: Conn, records: Sequence[Incoming], result: BatchResult
    ) -> list[OutboxMessage]:
        """The batch's locks and inbox rows in one statement each, no savepoint per event."""
        decoded = [self._admitted(incoming) for incoming in records]
        events = [e for e in decoded if not isinstance(e, Rejected)]
        lock_names = [f"{self.schema}:{self.key_of(e)}" for e in events]
        await lock_keys(conn, self.lock_namespace, lock_names)
        first = await first_deliveries(conn, self.consumer, [(e.source, e.id) for e in events])
        outputs: list[OutboxMessage] = []
        async with self._scope(conn, [e.subject for e in events]):
            for incoming, event in zip(records, decoded, strict=True):
                with _handling_of(incoming):
                    outputs += await self._handle(conn, incoming, event, first, result)
        return outputs

    def _scope(self, conn: Conn, subjects: Sequence[str]) -> AbstractAsyncContextManager[None]:
        return nullcontext() if self.batch_scope is None else self.batch_scope(conn, subjects)

    def _admitted(self, incoming: Incoming) -> E | Rejected:
        """The decoded event, or why neither it nor its key may go near SQL."""
        try:
            event = self.decode(incoming.value)
        except Rejected as exc:
            return exc
        problem = input_problem(
            incoming.key, self.key_of(event), source=event.source, event_id=event.id,
            key_name=self.key_name,
        )  # fmt: skip
        return event if problem is None else Rejected(problem)

    async def _handle(
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

    async def _dead_once(
        self, conn: Conn, incoming: Incoming, reason: str, result: BatchResult, log: Any
    ) -> list[OutboxMessage]:
        """Dead-letter a record once, even if it is redelivered (keyed by position and bytes)."""
        source = f"kafka:{incoming.topic}/{incoming.partition}"
        if not await first_delivery(conn, self.consumer, source, dead_letter_id(incoming)):
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


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
