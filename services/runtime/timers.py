"""Durable timers: work due on a clinic-local day, kept in Postgres until it is done.

Each timer is claimed with FOR UPDATE SKIP LOCKED in a transaction of its own and fires in
a savepoint as a command through the service's Decider (`Pipeline.fire`); its outputs go
through the outbox and its row is cleared unless the Decider re-armed it, so a restart
neither loses nor repeats a timer, and replicas share the work. A timer whose key a batch
holds right now is not waited for (that batch may be writing the timer's row): it is tried
again a second later, with no attempt counted. A timer whose fire fails
is rolled back alone: its row records the attempt and the time of the next try (backoff),
and the other due timers go on. After the last attempt a non-transient failure is
dead-lettered (a message naming the timer) and the timer set aside; transient failures
(the database busy or away) are retried at the longest delay and never set aside.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, Self

import asyncpg
import structlog

from schemas.dead_letters import CONSUMER_HEADER, ERROR_HEADER, TIMER_HEADER
from services.runtime.db import Conn
from services.runtime.metrics import Metrics
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.periodic import Periodic
from services.runtime.pipeline import KeyBusyError, RejectedError
from services.runtime.retry import is_transient

TimerKey = tuple[str, ...]
# A timer's key and due day → its outputs (`Pipeline.fire` of the service's timer command).
Fire = Callable[[Conn, TimerKey, date], Awaitable[Sequence[OutboxMessage]]]
BUSY_RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class TimerTable:
    """A service's timer table. Its rows also have `attempts`, `retry_at`, `set_aside_at`.

    `kind` names the timer in dead letters and logs; the first key column is the patient
    id, the key of the timer's dead letter. Every name here is a constant of the service.
    """

    kind: str
    table: str
    key_columns: tuple[str, ...]
    due_column: str

    @property
    def _match_key(self) -> str:
        return " AND ".join(f"{col} = ${n}" for n, col in enumerate(self.key_columns, 1))

    def claim_sql(self) -> str:
        keys = ", ".join(self.key_columns)
        return (
            f"SELECT {keys}, {self.due_column} AS due_on, attempts FROM {self.table} "  # noqa: S608
            f"WHERE {self.due_column} <= $1 AND set_aside_at IS NULL "
            "AND (retry_at IS NULL OR retry_at <= $2) "
            f"ORDER BY {self.due_column}, {keys} LIMIT 1 FOR UPDATE SKIP LOCKED"
        )

    def done_sql(self) -> str:
        """Parameters: the key, then the due day fired (a re-armed timer stays)."""
        n = len(self.key_columns)
        return f"DELETE FROM {self.table} WHERE {self._match_key} AND {self.due_column} = ${n + 1}"  # noqa: S608

    def record_sql(self) -> str:
        """Parameters: the key, then attempts, retry_at, set_aside_at."""
        n = len(self.key_columns)
        return (
            f"UPDATE {self.table} SET attempts = ${n + 1}, retry_at = ${n + 2}, "  # noqa: S608
            f"set_aside_at = ${n + 3} WHERE {self._match_key}"
        )


class RetrySettings(Protocol):
    @property
    def timer_max_attempts(self) -> int: ...
    @property
    def timer_first_retry_s(self) -> float: ...
    @property
    def timer_max_retry_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class TimerRetry:
    """Attempts of one timer: exponential backoff with a cap, and a last attempt."""

    max_attempts: int = 5
    first_delay_s: float = 60.0
    max_delay_s: float = 3600.0

    @classmethod
    def of(cls, settings: RetrySettings) -> Self:
        return cls(
            settings.timer_max_attempts, settings.timer_first_retry_s, settings.timer_max_retry_s
        )

    def delay_after(self, attempts: int) -> float:
        return float(min(self.first_delay_s * 2 ** max(attempts - 1, 0), self.max_delay_s))


@dataclass(frozen=True, slots=True)
class _Claimed:
    key: TimerKey
    due_on: date
    attempts: int


@dataclass
class TimerLoop:
    pool: asyncpg.Pool
    schema: str
    table: TimerTable
    fire: Fire
    today: Callable[[], date]
    now: Callable[[], datetime]
    dead_letters_topic: str
    retry: TimerRetry = TimerRetry()
    log: Any = field(default_factory=structlog.get_logger)
    batch_size: int = 100
    metrics: Metrics | None = None
    timezone: str = "UTC"  # the clinic's, for how long a due day has begun

    def every(self, interval_s: float) -> Periodic:
        """Run as the service's background work, looking for due timers every `interval_s`
        and at once again after a full batch."""
        return Periodic(
            f"timers-{self.schema}", self._tried, interval_s, self.log, full_batch=self.batch_size
        )

    async def tick(self) -> int:
        """Fire the timers due by today (at most `batch_size`); return how many fired."""
        fired, _ = await self._batch()
        return fired

    async def _tried(self) -> int:
        _, tried = await self._batch()
        return tried

    async def _batch(self) -> tuple[int, int]:
        """(timers fired, timers tried): failed ones count as tried, not as fired."""
        today = self.today()
        fired = tried = 0
        while tried < self.batch_size:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(self.table.claim_sql(), today, self.now())
                if row is None:
                    break
                timer = _Claimed(tuple(row[c] for c in self.table.key_columns),
                                 row["due_on"], row["attempts"])  # fmt: skip
                fired += await self._fire_one(conn, timer)
            tried += 1
        if self.metrics is not None:
            await self._measure(today)
        return fired, tried

    async def _measure(self, today: date) -> None:
        """How long the oldest timer still due has been due (a stuck timer shows here)."""
        table = self.table
        oldest = await self.pool.fetchval(
            f"SELECT min({table.due_column}) FROM {table.table} "  # noqa: S608
            f"WHERE {table.due_column} <= $1 AND set_aside_at IS NULL",
            today,
        )
        assert self.metrics is not None
        self.metrics.timers_due(table.kind, oldest, self.now(), self.timezone)

    async def _fire_one(self, conn: Conn, timer: _Claimed) -> int:
        try:
            async with conn.transaction():  # a savepoint: a failure undoes this timer only
                outputs = await self.fire(conn, timer.key, timer.due_on)
        except KeyBusyError:
            retry_at = self.now() + timedelta(seconds=BUSY_RETRY_S)
            await conn.execute(self.table.record_sql(), *timer.key, timer.attempts, retry_at, None)
            return 0
        except Exception as exc:  # noqa: BLE001 - any failure of one timer is that timer's
            await self._failed(conn, timer, exc)
            return 0
        await enqueue(conn, self.schema, outputs)
        await conn.execute(self.table.done_sql(), *timer.key, timer.due_on)
        return 1

    async def _failed(self, conn: Conn, timer: _Claimed, exc: Exception) -> None:
        attempts = timer.attempts + 1
        now = self.now()
        reason = (
            exc.reason if isinstance(exc, RejectedError) else f"timer failed: {type(exc).__name__}"
        )
        log = self.log.bind(kind=self.table.kind, patient_id=timer.key[0], attempts=attempts,
                            error=type(exc).__name__)  # fmt: skip
        if attempts < self.retry.max_attempts or is_transient(exc):
            delay = self.retry.delay_after(attempts)
            retry_at = now + timedelta(seconds=delay)
            await conn.execute(self.table.record_sql(), *timer.key, attempts, retry_at, None)
            log.warning("timer failed; retrying later", retry_in_s=delay)
            return
        await conn.execute(self.table.record_sql(), *timer.key, attempts, None, now)
        await enqueue(conn, self.schema, [self._dead_letter(timer, attempts, reason)])
        log.error("timer failed for the last time; dead-lettered and set aside", reason=reason)

    def _dead_letter(self, timer: _Claimed, attempts: int, reason: str) -> OutboxMessage:
        """Names the timer (kind, key, due day), never what it would have decided."""
        described = {"timer": self.table.kind, "key": list(timer.key),
                     "due_on": timer.due_on.isoformat(), "attempts": attempts}  # fmt: skip
        return OutboxMessage(
            topic=self.dead_letters_topic,
            key=timer.key[0].encode(),
            value=json.dumps(described, separators=(",", ":")).encode(),
            headers=(
                ("content-type", b"application/json"),
                (ERROR_HEADER, " ".join(f"{reason} ({attempts} attempts)".split())[:500].encode()),
                (CONSUMER_HEADER, self.schema.encode()),
                (TIMER_HEADER, f"{self.table.kind}:{'/'.join(timer.key)}".encode()),
            ),
        )
