"""The background loop: full batches at once, else a pause a wake-up can cut short."""

import asyncio
import time

import structlog

from services.runtime.periodic import Periodic

LONG_PAUSE_S = 30.0


async def wait_for_ticks(ticks: list[float], count: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(ticks) < count:
        assert time.monotonic() < deadline, f"only {len(ticks)} of {count} ticks"
        await asyncio.sleep(0.01)


def loop_recording(ticks: list[float], wakeup: asyncio.Event) -> Periodic:
    async def tick() -> int:
        ticks.append(time.monotonic())
        return 0

    return Periodic("test", tick, LONG_PAUSE_S, structlog.get_logger(), wakeup=wakeup)


async def test_a_wakeup_ends_the_pause_at_once_and_only_a_wakeup_does() -> None:
    ticks: list[float] = []
    wakeup = asyncio.Event()
    loop = loop_recording(ticks, wakeup)
    loop.start()
    try:
        await wait_for_ticks(ticks, 1)
        wakeup.set()
        await wait_for_ticks(ticks, 2)
        wakeup.set()
        await wait_for_ticks(ticks, 3)
    finally:
        await loop.stop()
    # Each wake-up gave one tick; without one the loop kept its 30 s pause.
    assert len(ticks) == 3
