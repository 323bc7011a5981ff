"""Advisory locks live in namespaces and never wait forever (issue 11, items 7 and 9)."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.runtime.db import create_pool
from services.runtime.incoming import Incoming
from services.runtime.locks import LockNamespace, lock_keys, lock_session, unlock_session
from services.runtime.retry import is_transient
from tests.integration.conftest import DATABASE_URL
from tests.integration.echo.service import build, echo_pipeline
from tests.integration.kafka_io import eventually, produce
from tests.integration.runtime_pool import migrated_pool

COLLISION_SEARCH = """
WITH relays AS MATERIALIZED (
    SELECT i, hashtext('outbox-relay:' || $1 || '_' || i) AS h FROM generate_series(1, $3::int) i
), patients AS MATERIALIZED (
    SELECT j, hashtext($2 || ':P-' || j) AS h FROM generate_series(1, $3::int) j
)
SELECT relays.i, patients.j FROM relays JOIN patients USING (h) ORDER BY i, j LIMIT 1
"""


async def relay_and_patient_with_one_hash(db: asyncpg.Connection, suffix: str) -> tuple[str, str]:
    """A relay schema and a patient of `echo_<suffix>` whose old one-key lock ids are equal."""
    found = await db.fetchrow(COLLISION_SEARCH, f"lk_{suffix}", f"echo_{suffix}", 200_000)
    assert found is not None, "no hashtext collision among the candidates"
    return f"lk_{suffix}_{found['i']}", f"P-{found['j']}"


async def relay_holds_its_lock(db: asyncpg.Connection, schema: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1",
            f"courseflow-{schema}",
        )
    )


async def test_a_patient_lock_never_waits_for_a_relay_lock_of_the_same_hash(
    bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    relay_schema, patient = await relay_and_patient_with_one_hash(db, suffix)
    relay_side = build(relay_schema, suffix)
    await relay_side.prepare()  # its relay leads, holding its lock as long as it runs
    try:
        await eventually(lambda: relay_holds_its_lock(db, relay_schema))
        echo = build(f"echo_{suffix}", suffix)
        await echo.start()
        try:
            event_id = uuid.uuid4().hex
            body = {"id": event_id, "source": "/tests", "type": "echo.ping", "subject": patient}
            await produce(
                bootstrap, f"in-{suffix}", json.dumps(body).encode(), key=patient.encode()
            )
            query = f'SELECT count(*) FROM "{echo.schema}".effects WHERE event_id = $1'
            await eventually(lambda: db.fetchval(query, event_id), timeout_s=30)
        finally:
            await echo.stop()
    finally:
        await relay_side.release()


@pytest.fixture
async def pool(suffix: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_pool(f"locks_{suffix}") as pool:
        yield pool


async def test_a_batch_waiting_for_a_held_patient_lock_times_out_and_is_retried(
    pool: asyncpg.Pool, suffix: str
) -> None:
    schema = f"locks_{suffix}"

    pipeline = echo_pipeline("locks", schema, lock_timeout_ms=100, give_up_after_s=1.0)
    body = {"id": "e-1", "source": "/tests", "type": "echo.ping", "subject": "P-1"}
    record = Incoming("clinic", 0, 0, b"P-1", json.dumps(body).encode())
    async with pool.acquire() as holder, holder.transaction():
        await lock_keys(holder, LockNamespace.PATIENT, [f"{schema}:P-1"])
        with pytest.raises(asyncpg.LockNotAvailableError) as waited:
            await pipeline.handle(pool, [record])
    assert is_transient(waited.value)
    assert (await pipeline.handle(pool, [record])).handled == 1  # the lock is free again


async def test_a_statement_past_the_command_timeout_fails_as_a_transient_error(
    suffix: str,
) -> None:
    pool = await create_pool(DATABASE_URL, f"locks_{suffix}", command_timeout=0.2)
    try:
        async with pool.acquire() as conn:
            with pytest.raises(TimeoutError) as timed_out:
                await conn.execute("SELECT pg_sleep(5)")
    finally:
        await pool.close()
    assert is_transient(timed_out.value)


async def test_a_standby_waits_for_a_session_lock_past_the_command_timeout(suffix: str) -> None:
    """A relay standby may wait for hours; its wait must not fail as a timed-out statement."""
    pool = await create_pool(DATABASE_URL, f"locks_{suffix}", command_timeout=0.2)
    name = f"outbox-relay:locks_{suffix}"
    try:
        async with pool.acquire() as leader, pool.acquire() as standby:
            await lock_session(leader, LockNamespace.RELAY, name)
            waiting = asyncio.create_task(
                lock_session(standby, LockNamespace.RELAY, name, retry_every_s=0.05)
            )
            done, _ = await asyncio.wait([waiting], timeout=1.0)  # five command timeouts
            assert not done, "the standby stopped waiting while the leader held the lock"
            await unlock_session(leader, LockNamespace.RELAY, name)
            await asyncio.wait_for(waiting, timeout=10)
            await unlock_session(standby, LockNamespace.RELAY, name)
    finally:
        await pool.close()
