"""Durable timers: work due on a clinic-local day, kept in Postgres until it is done.

Each tick claims due timers with FOR UPDATE SKIP LOCKED inside the transaction that fires
them, writes their output through the outbox and re-arms or clears them, so a restart
neither loses nor repeats a timer, and replicas share the work.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

import asyncpg

from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage, enqueue

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
    log: Any
    interval_s: float = 30.0
    batch_size: int = 100
    _task: asyncio.Task[None] | None = field(default=None, init=False)

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

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"timers-{self.schema}")

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
