"""One failing timer does not stall the others (issue 11, item 8), on the real database and broker.

Two patients' eligibility timers come due on the same day; the fire function fails for one of
them. The other fires at once; the failing one is tried again after its backoff, and after
the last attempt it is dead-lettered (a message naming the timer) and set aside.
"""

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.eligibility.app import EligibilityService, timer_loop
from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage
from services.runtime.timers import TimerKey, TimerRetry
from tests.clinic_events import ClinicFeed
from tests.integration.eligibility_harness import Eligibility, running_eligibility
from tests.integration.kafka_io import eventually

D = date(2026, 3, 2)  # a Monday
SURGERY = D + timedelta(days=2)
DUE = SURGERY + timedelta(days=14)  # R-POSTOP: eligible again on day 14


@dataclass
class SettableClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def eligibility(bootstrap: str, suffix: str) -> AsyncIterator[Eligibility[SettableClock]]:
    clock = SettableClock(datetime.combine(SURGERY + timedelta(days=5), datetime.min.time(), UTC))
    async with running_eligibility(bootstrap, suffix, clock) as eligibility:
        yield eligibility


async def waiting_for_postop(
    eligibility: Eligibility[SettableClock],
) -> tuple[ClinicFeed, ClinicFeed]:
    """Two patients, each with a timer due on DUE."""
    healthy, poisoned = ClinicFeed(), ClinicFeed()
    for feed in (healthy, poisoned):
        await eligibility.send(
            feed.enrolled(D), feed.surgery(SURGERY), feed.cleared(SURGERY + timedelta(days=5))
        )
    for feed in (healthy, poisoned):
        await eligibility.records("elig", feed.patient, 3)
    return healthy, poisoned


def failing_for(service: EligibilityService, patient_id: str, calls: list[TimerKey]) -> Any:
    async def fire(conn: Conn, key: TimerKey, due_on: date) -> Sequence[OutboxMessage]:
        calls.append(key)
        outputs = await service.fire(conn, key, due_on)
        if key == (patient_id,):  # after its writes, which the failure must undo
            raise RuntimeError("this timer's fire always fails")
        return outputs

    return fire


async def test_a_failing_timer_does_not_stop_the_others_and_is_dead_lettered_at_last(
    eligibility: Eligibility[SettableClock],
) -> None:
    healthy, poisoned = await waiting_for_postop(eligibility)
    calls: list[TimerKey] = []
    runtime, service = eligibility.runtime, eligibility.service
    timers = timer_loop(runtime.pool, runtime.schema, service, runtime.log)
    timers.fire = failing_for(service, poisoned.patient, calls)
    timers.retry = TimerRetry(max_attempts=3, first_delay_s=60, max_delay_s=600)
    clock = eligibility.clock
    clock.at = datetime.combine(DUE, datetime.min.time(), UTC) + timedelta(hours=8)

    assert await timers.tick() == 1
    decided = await eligibility.records("elig", healthy.patient, 4)
    assert json.loads(decided[-1].value)["data"]["eligible"] is True
    assert calls.count((poisoned.patient,)) == 1

    assert await timers.tick() == 0  # the failed one waits for its backoff (60 s)
    assert calls.count((poisoned.patient,)) == 1
    clock.at += timedelta(seconds=61)
    assert await timers.tick() == 0
    assert calls.count((poisoned.patient,)) == 2  # tried again, failed again
    clock.at += timedelta(seconds=61)
    assert await timers.tick() == 0
    assert calls.count((poisoned.patient,)) == 2  # the second wait is twice as long
    clock.at += timedelta(seconds=60)
    assert await timers.tick() == 0
    assert calls.count((poisoned.patient,)) == 3  # the last attempt

    (dead,) = await eligibility.records("dead", poisoned.patient, 1)
    headers = dict(dead.headers)
    assert headers["x-timer"] == f"eligibility.decision-timer:{poisoned.patient}".encode()
    assert headers["x-consumer"] == runtime.schema.encode()
    assert headers["x-error"] == b"timer failed: RuntimeError (3 attempts)"
    assert json.loads(dead.value) == {
        "timer": "eligibility.decision-timer", "key": [poisoned.patient],
        "due_on": DUE.isoformat(), "attempts": 3,
    }  # fmt: skip

    clock.at += timedelta(days=1)
    assert await timers.tick() == 0
    assert calls.count((poisoned.patient,)) == 3  # set aside: never tried again
    async with runtime.pool.acquire() as conn:
        version = await conn.fetchval(
            "SELECT version FROM patients WHERE patient_id = $1", poisoned.patient
        )
        timer = await conn.fetchrow(
            "SELECT attempts, set_aside_at FROM timers WHERE patient_id = $1", poisoned.patient
        )
    assert version == 3  # nothing the failed attempts wrote was kept
    assert timer is not None
    assert timer["attempts"] == 3
    assert timer["set_aside_at"] is not None
    assert [c for c in calls if c != (poisoned.patient,)] == [(healthy.patient,)]


async def test_a_timer_failing_for_a_transient_reason_is_retried_and_never_set_aside(
    eligibility: Eligibility[SettableClock],
) -> None:
    _, busy = await waiting_for_postop(eligibility)
    attempts = 0

    async def deadlocked(conn: Conn, key: TimerKey, due_on: date) -> Sequence[OutboxMessage]:
        nonlocal attempts
        attempts += 1
        if key == (busy.patient,):
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return await eligibility.service.fire(conn, key, due_on)

    runtime = eligibility.runtime
    timers = timer_loop(runtime.pool, runtime.schema, eligibility.service, runtime.log)
    timers.fire = deadlocked
    timers.retry = TimerRetry(max_attempts=1, first_delay_s=60, max_delay_s=60)
    eligibility.clock.at = datetime.combine(DUE, datetime.min.time(), UTC)
    assert await timers.tick() == 1  # the other patient's timer
    for _ in range(3):
        eligibility.clock.at += timedelta(seconds=61)
        assert await timers.tick() == 0
    async with runtime.pool.acquire() as conn:
        timer = await conn.fetchrow(
            "SELECT attempts, set_aside_at FROM timers WHERE patient_id = $1", busy.patient
        )
        dead = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = $1", f"dead-{eligibility.suffix}"
        )
    assert attempts == 1 + 4
    assert timer is not None
    assert (timer["attempts"], timer["set_aside_at"]) == (4, None)
    assert dead == 0


async def test_after_a_full_batch_the_next_one_follows_at_once(
    eligibility: Eligibility[SettableClock],
) -> None:
    feeds = await waiting_for_postop(eligibility)
    runtime = eligibility.runtime
    timers = timer_loop(runtime.pool, runtime.schema, eligibility.service, runtime.log)
    timers.batch_size = 1
    eligibility.clock.at = datetime.combine(DUE, datetime.min.time(), UTC)

    async def both_decided_again() -> bool:
        async with runtime.pool.acquire() as conn:
            versions = await conn.fetch(
                "SELECT version FROM patients WHERE patient_id = ANY($1::text[])",
                [feed.patient for feed in feeds],
            )
        return [row["version"] for row in versions] == [4, 4]

    background = timers.every(interval_s=3600)  # only a full batch can bring the second
    background.start()
    try:
        await eventually(both_decided_again)
    finally:
        await background.stop()
