"""The delivery worker: claims due deliveries, sends them, records the outcome.

Three steps, never one transaction around a send:
1. claim (FOR UPDATE SKIP LOCKED) and record the attempt: attempts + 1 and a lease (due_at
   = the attempt's backoff, at least twice the send timeout), committed;
2. send, outside any transaction, each send bounded by the send timeout;
3. record the outcome: delivered, retry after the backoff, or failed (notice.issued and a
   dead letter through the outbox), for the attempt that is still the notice's latest.
A crash or a lost database between 2 and 3 (failpoint `after_delivery`) leaves the row
leased: it is sent again when the lease ends, with the same webhook-id / Message-ID, and the
attempt stays counted, so `max_attempts` trips even if no outcome is ever recorded (a row
whose attempts are used up is recorded failed without another send). What that gives each
channel is in README.md, "Delivery guarantees".
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.notifier import deliveries
from services.notifier.backoff import RetryPolicy, doubling
from services.notifier.channels.base import DeliveryError
from services.notifier.channels.dispatch import Channels
from services.notifier.deliveries import DeliveryRow, Outcome
from services.notifier.outcomes import Outcomes
from services.notifier.routing import RoutingConfig
from services.runtime import failpoints
from services.runtime.clock import Clock
from services.runtime.db import Conn
from services.runtime.metrics import Metrics
from services.runtime.outbox import enqueue
from services.runtime.periodic import Ticked

MAX_TICK_PAUSE_S = 30.0
NO_OUTCOME = "no outcome was recorded for the last attempt"


@dataclass(frozen=True, slots=True)
class Attempt:
    row: DeliveryRow  # `attempts` counts this attempt
    merged: list[DeliveryRow]  # the notices it carries (coalescing)


@dataclass
class DeliveryWorker:
    pool: asyncpg.Pool
    schema: str
    routing: RoutingConfig
    channels: Channels
    outcomes: Outcomes
    retry: RetryPolicy
    clock: Clock
    log: Any
    batch_size: int = 20
    send_timeout_s: float = 30.0
    idle_s: float = 0.1  # the first pause after a failed tick, doubled while they fail
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    metrics: Metrics | None = None
    _failed_ticks: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.metrics is not None:
            self.metrics.expect_deliveries(self.channels.by_name)

    async def tick(self) -> Ticked:
        """Handle what is due now: how many deliveries were claimed and, unless the batch was
        full, how soon the next pending one is due (so the loop sleeps until then). After a
        failed tick the next one waits first, longer each time, so an absent database is not
        hammered (nothing is re-sent meanwhile: attempts in flight are leased)."""
        if self._failed_ticks:
            await self.sleep(doubling(self._failed_ticks, self.idle_s, MAX_TICK_PAUSE_S))
        try:
            ticked = await self._deliver_due()
        except Exception:
            self._failed_ticks += 1
            raise
        self._failed_ticks = 0
        return ticked

    async def _deliver_due(self) -> Ticked:
        async with self.pool.acquire() as conn:
            attempts, claimed = await self._claim(conn)
            errors = await asyncio.gather(*(self._send(attempt) for attempt in attempts))
            if attempts:
                failpoints.hit("after_delivery")
            async with conn.transaction():
                await self._record(conn, list(zip(attempts, errors, strict=True)))
            if claimed >= self.batch_size:
                return Ticked(claimed)  # more may be due now: the loop ticks again at once
            next_due = await deliveries.next_due_at(conn)
        if next_due is None:
            return Ticked(claimed)
        return Ticked(claimed, (next_due - self.clock.now()).total_seconds())

    async def _claim(self, conn: Conn) -> tuple[list[Attempt], int]:
        """The attempts to make now, counted and leased; rows whose attempts are used up
        (the last one's outcome was never recorded) are recorded failed instead."""
        now = self.clock.now()
        async with conn.transaction():
            due = await deliveries.claim_due(conn, now, self.batch_size)
            # Asked only for carriers: without coalescing (the default) there is none, and
            # the worker no longer looks the whole queue up at every tick.
            carriers = [row.notice_id for row in due if row.carries]
            carried = await deliveries.carried_by(conn, carriers)
            attempts = [
                Attempt(replace(row, attempts=row.attempts + 1), carried.get(row.notice_id, []))
                for row in due
                if row.attempts < self.retry.max_attempts
            ]
            await deliveries.start_attempts(conn, [(a.row.notice_id, self._lease(a, now))
                                                   for a in attempts])  # fmt: skip
            exhausted = [Attempt(row, carried.get(row.notice_id, [])) for row in due
                         if row.attempts >= self.retry.max_attempts]  # fmt: skip
            await self._record(conn, [(a, DeliveryError(NO_OUTCOME, permanent=True))
                                      for a in exhausted])  # fmt: skip
        return attempts, len(due)

    def _lease(self, attempt: Attempt, now: datetime) -> datetime:
        lease_s = self.retry.lease_after(attempt.row.attempts, self.send_timeout_s)
        return now + timedelta(seconds=lease_s)

    async def _send(self, attempt: Attempt) -> DeliveryError | None:
        row = attempt.row
        recipient = self.routing.recipients.get(row.recipient)
        if recipient is None:
            return DeliveryError("recipient no longer in the routing file", permanent=True)
        try:
            async with asyncio.timeout(self.send_timeout_s):
                await self.channels.send(recipient, row.outgoing(attempt.merged))
        except DeliveryError as exc:
            return exc
        except TimeoutError:
            return DeliveryError("no answer within the send timeout")
        except Exception as exc:  # noqa: BLE001 - an unforeseen failure is retried, then failed
            return DeliveryError(f"channel failed: {type(exc).__name__}")
        return None

    async def _record(
        self, conn: Conn, results: Sequence[tuple[Attempt, DeliveryError | None]]
    ) -> None:
        """Outcomes of attempts that are still their notice's latest, with notice.issued
        (and a dead letter) for each final one, in the caller's transaction."""
        final: list[tuple[Attempt, Outcome]] = []
        for attempt, error in results:
            outcome = await self._outcome(conn, attempt.row, error)
            if outcome is not None:
                final.append((attempt, outcome))
        recorded = await deliveries.finish(conn, [outcome for _, outcome in final])
        outputs = [
            message
            for attempt, outcome in final
            if outcome.notice_id in recorded
            for row in (attempt.row, *attempt.merged)
            for message in self.outcomes.messages(
                row, outcome.status, outcome.attempts, self.clock.now(), outcome.error
            )
        ]
        await enqueue(conn, self.schema, outputs)

    async def _outcome(
        self, conn: Conn, row: DeliveryRow, error: DeliveryError | None
    ) -> Outcome | None:
        """The final outcome of this attempt, or None when it is retried later."""
        log = self.log.bind(notice_id=row.notice_id, kind=row.kind, channel=row.channel,
                            patient_id=row.patient_id, attempts=row.attempts)  # fmt: skip
        if error is None:
            log.info("notice delivered", delivery="delivered")
            self._count(row, "delivered")
            return Outcome(row.notice_id, "delivered", row.attempts, None)
        delay = None if error.permanent else self.retry.delay_after(row.attempts)
        if delay is not None:
            self._count(row, "retry")
            due_at = self.clock.now() + timedelta(seconds=delay)
            await deliveries.retry_later(conn, row.notice_id, row.attempts, due_at, error.reason)
            log.warning("delivery failed; will retry", reason=error.reason, retry_in_s=delay)
            return None
        log.error("notice failed; dead-lettered", reason=error.reason, delivery="failed")
        self._count(row, "failed")
        return Outcome(row.notice_id, "failed", row.attempts, error.reason)

    def _count(self, row: DeliveryRow, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.delivery(row.channel, outcome)
