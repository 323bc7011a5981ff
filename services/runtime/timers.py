"""Durable timers: work due on a clinic-local day, kept in Postgres until it is done.

Each tick claims due timers with FOR UPDATE SKIP LOCKED inside the transaction that fires
them, writes their output through the outbox and re-arms or clears them, so a restart
neither loses nor repeats a timer, and replicas share the work.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import asyncpg

from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.periodic import Periodic

K = TypeVar("K")
ClaimDue = Callable[[Conn, date, int], Awaitable[Sequence[K]]]
Fire = Callable[[Conn, K, date], Awaitable[Sequence[OutboxMessage]]]


@dataclass
class TimerLoop(Generic[K]):
    pool: asyncpg.Pool
    schema: str
    claim_due: ClaimDue[K]
    fire: Fire[K]
    today: Callable[[], date]
    batch_size: int = 100

    def every(self, interval_s: float, log: Any) -> Periodic:
        """Run as the service's background work, looking for due timers every `interval_s`."""
        return Periodic(f"timers-{self.schema}", self.tick, interval_s, log)

    async def tick(self) -> int:
        """Fire every timer due by today; return how many fired."""
        today = self.today()
        fired = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                due = await self.claim_due(conn, today, self.batch_size)
                for key in due:
                    await enqueue(conn, self.schema, await self.fire(conn, key, today))
            fired += len(due)
            if len(due) < self.batch_size:
                return fired
