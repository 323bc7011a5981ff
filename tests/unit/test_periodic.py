"""The background loop: full batches at once, else a pause a wake-up can cut short."""

import asyncio
import time

import structlog

from services.runtime.periodic import Periodic, Ticked

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


async def test_a_tick_that_knows_its_next_due_time_is_called_again_then_not_after_the_interval():
    ticks: list[float] = []

    async def tick() -> Ticked:
        ticks.append(time.monotonic())
        # Due soon the first two times, then nothing waiting: the loop falls back to 30 s.
        return Ticked(0, 0.02 if len(ticks) < 3 else None)

    loop = Periodic("test", tick, LONG_PAUSE_S, structlog.get_logger())
    loop.start()
    try:
        await wait_for_ticks(ticks, 3)
        await asyncio.sleep(0.2)  # time for a fourth tick, if the loop wrongly made one
    finally:
        await loop.stop()
    assert len(ticks) == 3


async def test_full_batches_and_a_next_due_time_in_the_past_tick_again_at_once():
    results = [Ticked(5), Ticked(5), Ticked(1, -3600.0), Ticked(0)]
    calls: list[Ticked] = []

    async def tick() -> Ticked:
        calls.append(results[min(len(calls), len(results) - 1)])
        return calls[-1]

    loop = Periodic("test", tick, LONG_PAUSE_S, structlog.get_logger(), full_batch=5)
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 4:
            assert time.monotonic() < deadline, f"only {len(calls)} ticks"
            await asyncio.sleep(0.01)
    finally:
        await loop.stop()
    assert calls == results
