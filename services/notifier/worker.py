"""The delivery worker: claims due deliveries, sends them, records the outcome.

Each claim is one transaction holding the rows' locks (FOR UPDATE SKIP LOCKED) while they
are sent, so replicas never send one notice at the same time, and a crash between sending
and recording (failpoint `after_delivery`) leaves the row pending: it is sent again with the
same Idempotency-Key / Message-ID, which a recipient that honours them ignores.
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from services.notifier import deliveries
from services.notifier.backoff import RetryPolicy
from services.notifier.channels.base import DeliveryError
from services.notifier.channels.dispatch import Channels
from services.notifier.deliveries import DeliveryRow, Outcome
from services.notifier.outcomes import Outcomes
from services.notifier.routing import RoutingConfig
from services.runtime import failpoints
from services.runtime.clock import Clock
from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage, enqueue


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

    async def tick(self) -> int:
        """Send what is due now; return how many deliveries were attempted."""
        async with self.pool.acquire() as conn, conn.transaction():
            due = await deliveries.claim_due(conn, self.clock.now(), self.batch_size)
            carried = await deliveries.carried_by(conn, [row.notice_id for row in due])
            merged = [carried.get(row.notice_id, []) for row in due]
            errors = await asyncio.gather(
                *(self._send(row, rows) for row, rows in zip(due, merged, strict=True))
            )
            if due:
                failpoints.hit("after_delivery")
            finished: list[Outcome] = []
            outputs: list[OutboxMessage] = []
            for row, rows, error in zip(due, merged, errors, strict=True):
                outcome = await self._outcome(conn, row, error)
                if outcome is not None:
                    finished.append(outcome)
                    outputs += self._issued([row, *rows], outcome)
            await deliveries.finish(conn, finished)
            await enqueue(conn, self.schema, outputs)
        return len(due)

    async def _send(self, row: DeliveryRow, merged: list[DeliveryRow]) -> DeliveryError | None:
        recipient = self.routing.recipients.get(row.recipient)
        if recipient is None:
            return DeliveryError("recipient no longer in the routing file", permanent=True)
        try:
            await self.channels.send(recipient, row.outgoing(merged))
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - an unforeseen failure is retried, then failed
            return DeliveryError(f"channel failed: {type(exc).__name__}")
        return None

    async def _outcome(
        self, conn: Conn, row: DeliveryRow, error: DeliveryError | None
    ) -> Outcome | None:
        """The final outcome of this attempt, or None when it is retried later."""
        attempts = row.attempts + 1
        log = self.log.bind(notice_id=row.notice_id, kind=row.kind, channel=row.channel,
                            patient_id=row.patient_id, attempts=attempts)  # fmt: skip
        if error is None:
            log.info("notice delivered", delivery="delivered")
            return Outcome(row.notice_id, "delivered", attempts, None)
        delay = None if error.permanent else self.retry.delay_after(attempts)
        if delay is not None:
            due_at = self.clock.now() + timedelta(seconds=delay)
            await deliveries.retry_later(conn, row.notice_id, attempts, due_at, error.reason)
            log.warning("delivery failed; will retry", reason=error.reason, retry_in_s=delay)
            return None
        log.error("notice failed; dead-lettered", reason=error.reason, delivery="failed")
        return Outcome(row.notice_id, "failed", attempts, error.reason)

    def _issued(self, rows: list[DeliveryRow], outcome: Outcome) -> list[OutboxMessage]:
        """`notice.issued` for the notice and every notice it carried."""
        now = self.clock.now()
        return [
            message
            for row in rows
            for message in self.outcomes.messages(
                row, outcome.status, outcome.attempts, now, outcome.error
            )
        ]
