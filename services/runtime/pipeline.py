"""One consumed batch → one PostgreSQL transaction, folded in memory by the service's Decider.

Per batch: decode and check every record → the keys' locks and the inbox rows (one
statement each) → `load_many` → `decide` over the batch in memory → the changed states,
outbox rows and dead letters written at the end → commit; the caller then commits the
Kafka offsets. Only a `WritingAhead` repository writes before the end, the rows of the
decisions made so far, while the next ones are decided (the last ones while the outbox
messages are encoded); a rejected event decides nothing, so it simply drops out of the fold
(its inbox row taken back with the others in one statement), and a crash at any point
redelivers a batch whose inbox turns the replay into a no-op (every write is in the batch's
one transaction).

Every value taken from a record is checked before SQL sees it (the key, the inbox key).
Should the transaction fail for any reason that is neither transient nor a verdict on the
input (a bug in a service, a statement the database refuses), the batch is isolated: run
again in halves, each in its own transaction and in order, down to the one record that
fails, which is dead-lettered alone once it has failed twice. Transient failures are
retried and, if they last, re-raised so that the consumer rewinds and tries again.

Timers are commands through the same fold (`fire`), one key at a time.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import asyncpg

from schemas.causes import Cause
from services.runtime.db import Conn
from services.runtime.deadletters import dead_letter, dead_letter_id
from services.runtime.decider import (
    C,
    Context,
    Decided,
    Decider,
    Ev,
    O,
    Rejected,
    Repository,
    S,
    SharingRepository,
    WritingAhead,
)
from services.runtime.fold import DEAD_LETTER, DUPLICATE, BatchResult, Fold
from services.runtime.inbox import first_deliveries, forget_deliveries
from services.runtime.incoming import Incoming, input_problem
from services.runtime.locks import LockNamespace, limit_lock_waits, lock_keys, try_lock_keys
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.retry import is_transient, retry_transient

T = TypeVar("T")
NOT_READ_HERE = "the record's topic is not one this consumer reads"
# Decisions between two `WritingAhead.write_ahead` calls: the database writes a few dozen
# decisions' rows in less time than the next few dozen take to decide, and each call costs
# a statement of its own.
WRITE_AHEAD_EVERY = 64


def subject_of(event: Any) -> str:
    """The record key of a patient topic (CONTRACT.md: key = subject)."""
    return str(event.subject)


class KeyBusyError(Exception):
    """A timer's key is held by a batch right now: the timer waits for its next round."""


class _UnprocessableError(Exception):
    """A transaction failed for a reason that is neither transient nor a verdict."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Pipeline(Generic[Ev, C, S, O]):
    consumer: str
    schema: str
    # Per topic read, how a record's value becomes an event (a consumer may read several).
    decoders: Mapping[str, Callable[[bytes], Ev | Rejected]]
    decider: Decider[Ev, C, S, O]
    repository: Repository[C, S, O]
    context: Callable[[], Context]
    dead_letter_topic: str
    log: Any
    # The record key an event must carry, named in dead letters (the staff topic: clinic_id).
    key_of: Callable[[Ev], str] = subject_of
    key_name: str = "subject"
    lock_namespace: LockNamespace = LockNamespace.PATIENT
    lock_timeout_ms: int = 10_000
    give_up_after_s: float = 60.0

    async def handle(self, pool: asyncpg.Pool, records: Sequence[Incoming]) -> BatchResult:
        result = BatchResult()
        await self._isolating(pool, records, result)
        return result

    async def fire(self, conn: Conn, key: str, command: C, cause: Cause) -> list[OutboxMessage]:
        """A timer's command for `key`, in the caller's transaction: its outbox messages.
        Raises `KeyBusyError` when a batch holds the key (never waits for it: the caller
        holds the timer's row, which that batch may be about to write), and `RejectedError`
        when the Decider rejects the command."""
        if not await try_lock_keys(conn, self.lock_namespace, [self._lock_name(key)]):
            raise KeyBusyError
        states = await self.repository.load_many(conn, [key])
        # The lock order of `_batch`: the key's lock above, then the shared state's.
        shared = await self._shared(conn, [key], states, ())
        context = self.context()
        if shared is not None:
            context = replace(context, shared=shared, key=key)
        verdict = self.decider.decide(states[key], command, context)
        if isinstance(verdict, Rejected):
            raise RejectedError(verdict.reason)
        state, outputs = verdict
        decided = Decided(key, command, state, tuple(outputs), cause)
        changed = {} if state == states[key] else {key: state}
        if isinstance(self.repository, WritingAhead):
            await self.repository.write_ahead(conn, [decided])
        await self.repository.save_many(conn, changed, [decided])
        return list(self.decider.encode(decided))

    async def _shared(
        self, conn: Conn, keys: Sequence[str], states: Mapping[str, S], events: Sequence[Ev]
    ) -> Any:
        if keys and isinstance(self.repository, SharingRepository):
            return await self.repository.load_shared(conn, keys, states, events)
        return None

    def _fold(self, states: dict[str, S]) -> Fold[Ev, C, S, O]:
        return Fold(self.decider, self.key_of, self.log, states)

    def _lock_name(self, key: str) -> str:
        return f"{self.schema}:{key}"

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
        try:
            async with pool.acquire() as conn, conn.transaction():
                await limit_lock_waits(conn, self.lock_timeout_ms)
                return await self._batch(conn, records)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _UnprocessableError(f"could not be processed: {type(exc).__name__}") from exc

    async def _dead_alone(self, pool: asyncpg.Pool, incoming: Incoming, reason: str) -> BatchResult:
        fold = self._fold({})
        fold.dead.append((incoming, reason))
        async with pool.acquire() as conn, conn.transaction():
            await limit_lock_waits(conn, self.lock_timeout_ms)
            await enqueue(conn, self.schema, await self._dead_letters(conn, fold))
        return fold.result

    async def _batch(self, conn: Conn, records: Sequence[Incoming]) -> BatchResult:
        admitted = [self._admitted(incoming) for incoming in records]
        events = [event for event in admitted if not isinstance(event, Rejected)]
        keys = sorted({self.key_of(event) for event in events})
        # Lock order, for every transaction of every service: first the batch's own keys in
        # its namespace (all at once, sorted), then whatever `load_shared` locks (a clinic's
        # bookings, LockNamespace.CLINIC, sorted); never the other way round. A transaction
        # that holds a clinic lock never waits for a key's lock, so none can deadlock.
        await lock_keys(conn, self.lock_namespace, [self._lock_name(key) for key in keys])
        first = await first_deliveries(conn, self.consumer, [(e.source, e.id) for e in events])
        fold = self._fold(await self.repository.load_many(conn, keys) if keys else {})
        fold.shared = await self._shared(conn, keys, fold.states, events)
        context = self.context()
        outbox = await self._folding(
            conn, fold, zip(records, admitted, strict=True), first, context
        )
        await forget_deliveries(conn, self.consumer, fold.forgotten)
        await self.repository.save_many(conn, fold.changed_states(), fold.decided)
        await enqueue(conn, self.schema, outbox + await self._dead_letters(conn, fold))
        return fold.result

    async def _folding(
        self,
        conn: Conn,
        fold: Fold[Ev, C, S, O],
        records: Iterable[tuple[Incoming, Ev | Rejected]],
        first: set[tuple[str, str]],
        context: Context,
    ) -> list[OutboxMessage]:
        """Every record through the fold, then the decisions' outbox messages. With a
        `WritingAhead` repository, the rows of each few dozen decisions are written while
        the next ones are decided, and the last ones while the messages are encoded (the
        statement is sent, then the work goes on: the database works on another core). One
        statement at a time on the connection: each waits for the one before."""
        ahead = self.repository if isinstance(self.repository, WritingAhead) else None
        writing: asyncio.Future[None] | None = None
        written = 0

        async def write_ahead(repository: WritingAhead) -> None:
            nonlocal writing, written
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(repository.write_ahead(conn, fold.decided[written:]))
            written = len(fold.decided)
            await asyncio.sleep(0)  # the write sends its statement before the work goes on

        try:
            for incoming, event in records:
                fold.add(incoming, event, first, context)
                if ahead is not None and len(fold.decided) - written >= WRITE_AHEAD_EVERY:
                    await write_ahead(ahead)
            if ahead is not None and len(fold.decided) > written:
                await write_ahead(ahead)
            outbox = [
                message for decided in fold.decided for message in self.decider.encode(decided)
            ]
            if writing is not None:
                await writing
            return outbox
        finally:
            # A fold that failed leaves no statement running on the connection it returns.
            if writing is not None and not writing.done():
                with contextlib.suppress(Exception):
                    await writing

    def _admitted(self, incoming: Incoming) -> Ev | Rejected:
        """The decoded event, or why neither it nor its key may go near SQL."""
        decode = self.decoders.get(incoming.topic)
        if decode is None:
            return Rejected(NOT_READ_HERE)
        event = decode(incoming.value)
        if isinstance(event, Rejected):
            return event
        problem = input_problem(
            incoming.key, self.key_of(event), source=event.source, event_id=event.id,
            key_name=self.key_name,
        )  # fmt: skip
        return event if problem is None else Rejected(problem)

    async def _dead_letters(self, conn: Conn, fold: Fold[Ev, C, S, O]) -> list[OutboxMessage]:
        """Dead-letter each record once, even if it is redelivered (keyed by position and
        bytes): one inbox statement for all of the batch's."""
        if not fold.dead:
            return []
        positions = [(_position(incoming), dead_letter_id(incoming)) for incoming, _ in fold.dead]
        first = await first_deliveries(conn, self.consumer, positions)
        messages: list[OutboxMessage] = []
        for (incoming, reason), position in zip(fold.dead, positions, strict=True):
            if position not in first:
                fold.result.count(incoming, DUPLICATE)
                continue
            first.discard(position)
            fold.result.count(incoming, DEAD_LETTER)
            self.log.warning(
                "dead-lettered", reason=reason, topic=incoming.topic,
                partition=incoming.partition, offset=incoming.offset,
            )  # fmt: skip
            messages.append(dead_letter(
                incoming, reason=reason, consumer=self.consumer, topic=self.dead_letter_topic
            ))  # fmt: skip
        return messages


class RejectedError(Exception):
    """A Decider rejected a timer's command (the timer loop records it as a failure)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _position(incoming: Incoming) -> str:
    return f"kafka:{incoming.topic}/{incoming.partition}"
