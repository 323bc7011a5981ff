"""Background work that repeats for as long as a service runs (timers, delivery queues)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Periodic:
    """Calls `tick` again and again: at once while it reports a full batch (more work is
    waiting), else after `interval_s` or as soon as `wakeup` is set (new work committed in
    this process). A failed tick is logged and tried again later, so the loop outlives any
    one failure (the database away for a while, say)."""

    name: str
    tick: Callable[[], Awaitable[int]]
    interval_s: float
    log: Any
    full_batch: int | None = None
    wakeup: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                done = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - see the class docstring
                self.log.warning("background tick failed; retrying", error=type(exc).__name__,
                                 reason=self.name)  # fmt: skip
                done = 0
            if self.full_batch is None or done < self.full_batch:
                await self._pause()

    async def _pause(self) -> None:
        if self.wakeup is None:
            await asyncio.sleep(self.interval_s)
            return
        # Set during a tick, it ends the next pause at once: no wake-up is lost.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), self.interval_s)
        self.wakeup.clear()
