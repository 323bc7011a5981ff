"""The shared runtime's delivery guarantees, against the real broker and database."""

import json
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.runtime import failpoints
from services.runtime.db import create_pool
from services.runtime.launcher import ServiceProcess
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.relay import fetch_pending, publish
from services.runtime.service import ServiceRuntime
from services.runtime.topics import ensure_topics
from tests.integration.echo.service import build, settings_for
from tests.integration.kafka_io import eventually, produce, read_until


def echo_event(event_type: str = "echo.ping", patient: str = "P-1") -> tuple[str, bytes]:
    event_id = uuid.uuid4().hex
    body = {"id": event_id, "source": "/tests", "type": event_type, "subject": patient}
    return event_id, json.dumps(body).encode()


@pytest.fixture
async def echo(suffix: str) -> AsyncIterator[ServiceRuntime]:
    runtime = build(f"echo_{suffix}", suffix)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def effect_count(db: asyncpg.Connection, schema: str, event_id: str) -> int:
    query = f'SELECT count(*) FROM "{schema}".effects WHERE event_id = $1'
    return int(await db.fetchval(query, event_id))


async def test_consumer_killed_between_db_commit_and_offset_commit_keeps_one_effect(
    bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    name = f"echo_{suffix}"
    first, first_value = echo_event()
    argv = [sys.executable, "-m", "tests.integration.echo.service", name, suffix]
    await ensure_topics(bootstrap, [f"in-{suffix}", f"out-{suffix}"], partitions=2)
    await produce(bootstrap, f"in-{suffix}", first_value, key=b"P-1")
    crash = {"COURSEFLOW_FAILPOINTS": "after_db_commit"}
    assert await ServiceProcess(name, crash, argv=argv).exit_code() == failpoints.EXIT_CODE
    assert await effect_count(db, name, first) == 1

    second, second_value = echo_event()
    await produce(bootstrap, f"in-{suffix}", second_value, key=b"P-1")
    async with ServiceProcess(name, argv=argv).running():
        await eventually(lambda: effect_count(db, name, second), timeout_s=60)
    assert await effect_count(db, name, first) == 1  # redelivered, absorbed by the inbox
    inbox_rows = await db.fetchval(
        f'SELECT count(*) FROM "{name}".inbox WHERE event_id = $1',
        first,
    )
    assert inbox_rows == 1


async def test_outbox_row_of_a_rolled_back_transaction_is_never_published(
    echo: ServiceRuntime, bootstrap: str, suffix: str
) -> None:
    topic = f"out-{suffix}"
    async with echo.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await enqueue(conn, echo.schema, [OutboxMessage(topic, b"P-1", b"rolled-back")])
        await tx.rollback()
        async with conn.transaction():
            await enqueue(conn, echo.schema, [OutboxMessage(topic, b"P-1", b"committed")])

    records = await read_until(
        bootstrap, topic, lambda rs: any(r.value == b"committed" for r in rs)
    )
    values = [r.value for r in records]
    assert b"committed" in values
    assert b"rolled-back" not in values


async def test_relay_dying_after_publish_before_mark_republishes_and_inbox_absorbs_it(
    bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    producer_side = build(f"producer_{suffix}", suffix)
    await producer_side.prepare()
    await producer_side.relay.stop()  # drive the relay's steps by hand
    consumer_side = build(f"echo_{suffix}", suffix)
    await consumer_side.start()
    try:
        event_id, value = echo_event()
        in_topic = f"in-{suffix}"
        async with producer_side.pool.acquire() as conn:
            async with conn.transaction():
                await enqueue(conn, producer_side.schema, [OutboxMessage(in_topic, b"P-1", value)])
            await publish(producer_side.producer, await fetch_pending(conn, 10))
            # the relay dies here: the row stays unmarked and is published again
            assert await producer_side.relay.drain_once(conn) == 1

        records = await read_until(bootstrap, in_topic, lambda rs: len(rs) >= 2)
        assert [r.value for r in records] == [value, value]
        await eventually(lambda: effect_count(db, consumer_side.schema, event_id))
        echoes = await read_until(bootstrap, f"out-{suffix}", lambda rs: len(rs) >= 1, timeout_s=10)
        assert await effect_count(db, consumer_side.schema, event_id) == 1
        assert len(echoes) == 1
    finally:
        await consumer_side.stop()
        await producer_side.release()


async def test_invalid_message_is_dead_lettered_with_headers_and_the_next_one_is_handled(
    echo: ServiceRuntime, bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    in_topic = f"in-{suffix}"
    await produce(bootstrap, in_topic, b"{not json", key=b"P-7")
    rejected_id, rejected = echo_event("echo.reject", patient="P-7")
    await produce(bootstrap, in_topic, rejected, key=b"P-7")
    good_id, good = echo_event(patient="P-7")
    await produce(bootstrap, in_topic, good, key=b"P-7")

    await eventually(lambda: effect_count(db, echo.schema, good_id))
    dead = await read_until(bootstrap, f"dead-{suffix}", lambda rs: len(rs) >= 2)
    assert [d.value for d in dead] == [b"{not json", rejected]
    for record, reason in zip(
        dead, ["not an echo event", "rejected by the echo rules"], strict=True
    ):
        assert record.key == b"P-7"
        headers = dict(record.headers)
        assert headers["x-error"] == reason.encode()
        assert headers["x-consumer"] == echo.name.encode()
        assert headers["x-source-topic"] == in_topic.encode()
        assert int(headers["x-source-partition"]) >= 0
        assert int(headers["x-source-offset"]) >= 0
    assert await effect_count(db, echo.schema, rejected_id) == 0


async def inbox_count(db: asyncpg.Connection, schema: str, event_id: str) -> int:
    return int(await db.fetchval(f'SELECT count(*) FROM "{schema}".inbox WHERE event_id = $1',
                                 event_id))  # fmt: skip


async def test_a_handler_failing_after_a_write_rolls_back_only_its_own_event(
    bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    """The batch is rolled back and run again in halves: the failing event leaves nothing
    behind and is dead-lettered, every other event of the batch takes effect once (a copy
    within the batch too), and a rejected event leaves no inbox row (so it can be replayed)."""
    in_topic = f"in-{suffix}"
    await ensure_topics(bootstrap, [in_topic, f"out-{suffix}", f"dead-{suffix}"], partitions=2)
    before, before_value = echo_event(patient="P-9")
    crash, crash_value = echo_event("echo.crash", patient="P-9")
    rejected, rejected_value = echo_event("echo.reject", patient="P-9")
    after, after_value = echo_event(patient="P-9")
    for value in (before_value, before_value, crash_value, rejected_value, after_value):
        await produce(bootstrap, in_topic, value, key=b"P-9")
    runtime = build(f"echo_{suffix}", suffix)  # started after the four are in: one batch
    await runtime.start()
    try:
        await eventually(lambda: effect_count(db, runtime.schema, after), timeout_s=60)
        dead = await read_until(bootstrap, f"dead-{suffix}", lambda rs: len(rs) >= 2)
    finally:
        await runtime.stop()
    assert [d.value for d in dead] == [crash_value, rejected_value]
    assert dict(dead[0].headers)["x-error"] == b"could not be processed: RuntimeError"
    events = (before, crash, rejected, after)
    assert [await effect_count(db, runtime.schema, e) for e in events] == [1, 0, 0, 1]
    assert [await inbox_count(db, runtime.schema, e) for e in events] == [1, 0, 0, 1]


async def test_migrations_apply_once_and_pool_sees_the_service_schema(suffix: str) -> None:
    from services.runtime.db import RUNTIME_MIGRATIONS, migrate  # noqa: PLC0415

    settings = settings_for(suffix)
    pool = await create_pool(settings.database_url, f"mig_{suffix}")
    try:
        async with pool.acquire() as conn:
            first = await migrate(conn, f"mig_{suffix}")
            second = await migrate(conn, f"mig_{suffix}")
            runtime_migrations = sorted(RUNTIME_MIGRATIONS.glob("*.sql"))
            assert first == [f"runtime/{path.name}" for path in runtime_migrations]
            assert first[0] == "runtime/0001_runtime.sql"
            assert second == []
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
            compression = await conn.fetchval(
                "SELECT attcompression::text FROM pg_attribute "
                "WHERE attrelid = 'outbox'::regclass AND attname = 'value'"
            )
            lz4 = await conn.fetchval(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
            assert compression == ("l" if lz4 else "")  # "": the server's default (pglz)
    finally:
        await pool.close()
