"""Durable timers: when a patient's decision changes by time alone, publish it that day.

Timers live in Postgres and are claimed with FOR UPDATE SKIP LOCKED inside the transaction
that publishes (through the outbox) and re-arms them, so a restart neither loses nor
repeats one, and replicas share the work.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.eligibility import repository
from services.eligibility.handler import EligibilityHandler
from services.runtime.outbox import enqueue


@dataclass
class TimerLoop:
    handler: EligibilityHandler
    pool: asyncpg.Pool
    schema: str
    log: Any
    interval_s: float = 30.0
    batch_size: int = 100
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def tick(self) -> int:
        """Fire every timer due by the clinic-local today; return how many fired."""
        today = self.handler.today()
        fired = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                due = await repository.claim_due_timers(conn, today, self.batch_size)
                for patient_id in due:
                    outputs = await self.handler.on_timer(conn, patient_id, today)
                    await enqueue(conn, self.schema, outputs)
            fired += len(due)
            if len(due) < self.batch_size:
                return fired

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="eligibility-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                fired = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - timers must outlive any one failure
                self.log.warning("timer tick failed; retrying", error=type(exc).__name__)
            else:
                if fired:
                    self.log.info("timers fired", count=fired)
            await asyncio.sleep(self.interval_s)
