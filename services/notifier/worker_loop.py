"""Runs the delivery worker for as long as the service runs, polling for due deliveries."""

import asyncio
import contextlib
from dataclasses import dataclass, field

from services.notifier.worker import DeliveryWorker


@dataclass
class DeliveryLoop:
    worker: DeliveryWorker
    poll_interval_s: float = 1.0
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notifier-deliveries")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                attempted = await self.worker.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the queue must outlive any one failure
                self.worker.log.warning("delivery tick failed; retrying", error=type(exc).__name__)
                attempted = 0
            if attempted < self.worker.batch_size:
                await asyncio.sleep(self.poll_interval_s)
