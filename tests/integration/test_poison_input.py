"""Bad input outside a handler (keys, inbox keys) never stalls a partition (issue 11, item 2).

Records go to one partition in one go, before the service starts, so they arrive as one
batch: a bad record must not hold up the valid ones around it.
"""

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from functools import partial

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from services.runtime.decider import Rejected
from services.runtime.incoming import Incoming
from services.runtime.topics import ensure_topics
from tests.integration.echo.service import (
    EchoDecider,
    EchoEvent,
    EchoPipeline,
    build,
    echo_pipeline,
)
from tests.integration.kafka_io import eventually, read_until, uncommitted
from tests.integration.runtime_pool import migrated_pool


def echo_value(patient: str, event_id: str | None = None) -> tuple[str, bytes]:
    event_id = event_id or uuid.uuid4().hex
    body = {"id": event_id, "source": "/tests", "type": "echo.ping", "subject": patient}
    return event_id, json.dumps(body).encode()


TRACE = ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


async def produce_to_one_partition(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2**20)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, partition=0, headers=[TRACE])
            for key, value in records
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def effects(db: asyncpg.Connection, schema: str, event_id: str) -> int:
    return int(
        await db.fetchval(f'SELECT count(*) FROM "{schema}".effects WHERE event_id = $1', event_id)
    )


async def test_poison_keys_and_ids_are_dead_lettered_once_and_the_partition_keeps_flowing(
    bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    in_topic = f"in-{suffix}"
    await ensure_topics(bootstrap, [in_topic, f"out-{suffix}", f"dead-{suffix}"], partitions=2)
    valid = [echo_value(f"P-{n}") for n in range(4)]
    _, nul_key = echo_value("P-nul")
    _, nul_subject = echo_value("P-\x00z")
    _, wrong_key = echo_value("P-subject")
    _, keyless = echo_value("P-keyless")
    # Random text: a long but compressible id would fit the index and prove nothing.
    _, long_id = echo_value("P-long", event_id=secrets.token_urlsafe(2250)[:3000])
    oversized = b"not an event " + secrets.token_bytes(900 * 1024)  # near the 1 MiB limit
    poison: list[tuple[bytes | None, bytes]] = [
        (b"P-\x00nul", nul_key),
        (b"P-\x00z", nul_subject),  # the key is the subject, but SQL text cannot hold NUL
        (b"P-other", wrong_key),
        (None, keyless),
        (b"P-long", long_id),
        (b"P-big", oversized),
    ]
    records = [(b"P-0", valid[0][1]), *poison[:2], (b"P-1", valid[1][1]), *poison[2:]]
    records += [(b"P-2", valid[2][1]), (b"P-3", valid[3][1])]
    await produce_to_one_partition(bootstrap, in_topic, records)

    runtime = build(f"echo_{suffix}", suffix)
    await runtime.start()
    try:
        for event_id, _ in valid:
            await eventually(partial(effects, db, runtime.schema, event_id), timeout_s=60)
        dead = await read_until(bootstrap, f"dead-{suffix}", lambda rs: len(rs) >= len(poison))
        await eventually(
            lambda: _nothing_uncommitted(bootstrap, runtime.name, in_topic), timeout_s=30
        )
    finally:
        await runtime.stop()
    assert [await effects(db, runtime.schema, e) for e, _ in valid] == [1, 1, 1, 1]
    cut = oversized[: 64 * 1024]
    expected = [value for _, value in poison if value is not oversized] + [cut]
    assert sorted(d.value for d in dead) == sorted(expected)
    headers = {d.value: dict(d.headers) for d in dead}
    assert headers[cut]["x-truncated"] == b"true"
    assert headers[cut]["x-original-size"] == str(len(oversized)).encode()
    assert all(h[TRACE[0]] == TRACE[1] for h in headers.values())  # original headers kept
    reasons = {value: h["x-error"].decode() for value, h in headers.items()}
    assert reasons[wrong_key] == "the record key is not the event's subject"
    assert reasons[keyless] == "the record has no key"
    assert reasons[nul_key] == reasons[nul_subject] == "the record key contains a NUL character"
    assert reasons[long_id] == "the event id is longer than 1024 bytes"
    for reason in reasons.values():
        assert "P-" not in reason  # no input values in a reason


async def _nothing_uncommitted(bootstrap: str, group: str, topic: str) -> bool:
    return not await uncommitted(bootstrap, group, [topic], partitions=2)


@pytest.fixture
async def pool(suffix: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_pool(f"poison_{suffix}") as pool:
        yield pool


class RejectAll(EchoDecider):
    def translate(self, event: EchoEvent) -> Rejected:
        return Rejected("rejected by the test")


def dead_letters_only(schema: str) -> EchoPipeline:
    """A pipeline whose every event is rejected: each record becomes one dead letter."""
    return echo_pipeline("poison", schema, RejectAll("out"))


async def dead_letter_rows(pool: asyncpg.Pool) -> list[bytes]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT value FROM outbox WHERE topic = 'dead' ORDER BY id")
    return [bytes(r["value"]) for r in rows]


async def test_a_new_record_at_an_old_position_is_dead_lettered_and_a_redelivery_is_not(
    pool: asyncpg.Pool, suffix: str
) -> None:
    """A topic deleted and recreated reuses offsets: position alone is not the record."""
    pipeline = dead_letters_only(f"poison_{suffix}")
    first = Incoming("clinic", 0, 7, b"P-1", echo_value("P-1")[1])
    same_place_other_bytes = Incoming("clinic", 0, 7, b"P-1", echo_value("P-1")[1])

    await pipeline.handle(pool, [first])
    await pipeline.handle(pool, [first])  # redelivered
    await pipeline.handle(pool, [same_place_other_bytes])

    assert await dead_letter_rows(pool) == [first.value, same_place_other_bytes.value]
