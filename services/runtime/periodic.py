"""Background work that repeats for as long as a service runs (timers, delivery queues)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# A tick that says work is due now (rows another replica holds locked for a moment, say)
# is tried again after this, not in a busy loop.
_SHORTEST_PAUSE_S = 0.01


@dataclass(frozen=True, slots=True)
class Ticked:
    """What a tick did (`done`), and when it knows it, how soon its next work is due."""

    done: int
    next_due_in_s: float | None = None  # None: nothing is waiting that the tick knows of


@dataclass
class Periodic:
    """Calls `tick` again and again: at once while it reports a full batch (more work is
    waiting), else after `interval_s`, or sooner when the tick says its next work is due
    sooner, or as soon as `wakeup` is set (new work committed in this process). So a loop
    whose ticks know their next due time sleeps until then and polls only every
    `interval_s` (for work it cannot know of). A failed tick is logged and tried again
    later, so the loop outlives any one failure (the database away for a while, say)."""

    name: str
    tick: Callable[[], Awaitable[int | Ticked]]
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
                result = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - see the class docstring
                self.log.warning("background tick failed; retrying", error=type(exc).__name__,
                                 reason=self.name)  # fmt: skip
                result = 0
            ticked = result if isinstance(result, Ticked) else Ticked(result)
            if self.full_batch is None or ticked.done < self.full_batch:
                await self._pause(self._pause_s(ticked))

    def _pause_s(self, ticked: Ticked) -> float:
        if ticked.next_due_in_s is None:
            return self.interval_s
        return min(max(ticked.next_due_in_s, _SHORTEST_PAUSE_S), self.interval_s)

    async def _pause(self, seconds: float) -> None:
        if self.wakeup is None:
            await asyncio.sleep(seconds)
            return
        # Set during a tick, it ends the next pause at once: no wake-up is lost.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), seconds)
        self.wakeup.clear()
