"""The outbox relay against faults of its own: rows that can never be published, a producer
whose sender died, and a /health that says so. Real broker, real database."""

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import OutOfOrderSequenceNumber

from services.ops.outbox import parked_rows
from services.runtime.launcher import courseflow_command, free_port
from services.runtime.outbox import OutboxMessage, enqueue
from services.runtime.service import ServiceRuntime
from services.runtime.topics import ensure_topics
from tests.integration import test_runtime_guarantees
from tests.integration.conftest import DATABASE_URL
from tests.integration.echo.service import build
from tests.integration.kafka_io import eventually, read_until
from tests.integration.test_operations import output_of

ONE_MIB = 1024 * 1024
echo = test_runtime_guarantees.echo  # the fixture: the echo service's runtime, started


@pytest.fixture(autouse=True)
def quick_relay_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the `echo` runtime reads its settings: short periods, so that the tests see
    changes quickly (never asserted as timings)."""
    monkeypatch.setenv("COURSEFLOW_OUTBOX_UNHEALTHY_AFTER_S", "1")
    monkeypatch.setenv("COURSEFLOW_OUTBOX_METRICS_INTERVAL_S", "0.2")
    monkeypatch.setenv("COURSEFLOW_OUTBOX_PARK_MISSING_TOPIC_AFTER_S", "0.5")


async def outbox(runtime: ServiceRuntime, *values: bytes, topic: str | None = None) -> None:
    destination = topic or runtime.settings.topic_schedule
    async with runtime.pool.acquire() as conn, conn.transaction():
        messages = [OutboxMessage(destination, b"P-1", value) for value in values]
        await enqueue(conn, runtime.schema, messages)


def has_values(*wanted: bytes) -> Callable[[list[Any]], bool]:
    return lambda records: set(wanted) <= {r.value for r in records}


async def test_a_row_too_large_to_publish_is_parked_and_the_rows_after_it_go_out(
    echo: ServiceRuntime, bootstrap: str
) -> None:
    topic = echo.settings.topic_schedule
    before, after = b"before-" + uuid.uuid4().bytes, b"after-" + uuid.uuid4().bytes
    await outbox(echo, before, b"x" * (ONE_MIB + 1024), after)

    records = await read_until(bootstrap, topic, has_values(before, after))
    assert [r.value for r in records] == [before, after]

    parked = await eventually(lambda: parked_rows(DATABASE_URL, [echo.schema]))
    assert [(p.service, p.topic, p.reason) for p in parked] == [(echo.schema, topic, "too_large")]
    assert parked[0].size > ONE_MIB
    listed = await output_of(courseflow_command("outbox", "parked", "--service", echo.schema), {})
    assert f"{echo.schema} {parked[0].id} {topic} {parked[0].size} bytes too_large " in listed
    assert "1 parked outbox rows" in listed
    sample = echo.metrics.registry.get_sample_value
    labels = {"service": echo.name, "reason": "too_large"}
    await eventually(lambda: sample("courseflow_outbox_parked_total", labels) == 1)
    assert await eventually(
        lambda: sample("courseflow_outbox_parked_rows", {"service": echo.name}) == 1
    )


async def create_small_topic(bootstrap: str, topic: str) -> None:
    """One partition that takes at most 10 kB per record batch."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        config = {"max.message.bytes": "10000"}
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=config)])
    finally:
        await admin.close()


async def test_a_row_the_broker_refuses_as_too_large_is_parked_and_the_rows_after_it_go_out(
    echo: ServiceRuntime, bootstrap: str, suffix: str
) -> None:
    small = f"small-{suffix}"  # the broker takes at most 10 kB per record batch here
    await create_small_topic(bootstrap, small)
    before, after = b"before-" + uuid.uuid4().bytes, b"after-" + uuid.uuid4().bytes
    await outbox(echo, before, b"x" * 50_000, after, topic=small)

    records = await read_until(bootstrap, small, has_values(before, after))
    assert [r.value for r in records] == [before, after]
    parked = await eventually(lambda: parked_rows(DATABASE_URL, [echo.schema]))
    assert [(p.topic, p.reason, p.size) for p in parked] == [
        (small, "too_large", 50_003)
    ]  # value + key


async def test_rows_the_broker_refuses_only_together_go_out_one_by_one_in_order(
    echo: ServiceRuntime, bootstrap: str, suffix: str
) -> None:
    # Each row fits the topic's 10 kB, a batch of them does not: the broker refuses the
    # batch as too large. Its rows go out again one at a time, in order, before the rows
    # after them; only the row too large on its own is parked.
    small = f"small-{suffix}"
    await create_small_topic(bootstrap, small)
    first = b"first-" + uuid.uuid4().bytes  # the producer has written to the partition
    await outbox(echo, first, topic=small)
    await read_until(bootstrap, small, has_values(first))
    fits = [f"fits-{n}-".encode() + uuid.uuid4().bytes * 250 for n in range(6)]  # 4 kB each
    after = b"after-" + uuid.uuid4().bytes
    await outbox(echo, *fits[:3], b"x" * 50_000, *fits[3:], after, topic=small)

    records = await read_until(bootstrap, small, has_values(*fits, after))
    assert [r.value for r in records] == [first, *fits, after]
    parked = await eventually(lambda: parked_rows(DATABASE_URL, [echo.schema]))
    assert [(p.topic, p.reason, p.size) for p in parked] == [(small, "too_large", 50_003)]


async def test_a_row_for_a_topic_that_does_not_exist_is_parked(
    echo: ServiceRuntime, bootstrap: str, suffix: str
) -> None:
    after = b"after-" + uuid.uuid4().bytes
    await outbox(echo, b"lost", topic=f"no-such-topic-{suffix}")
    await outbox(echo, after)

    await read_until(bootstrap, echo.settings.topic_schedule, has_values(after))
    parked = await eventually(lambda: parked_rows(DATABASE_URL, [echo.schema]))
    assert [(p.topic, p.reason) for p in parked] == [(f"no-such-topic-{suffix}", "unknown_topic")]


@pytest.fixture
def patient_with_missing_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSEFLOW_OUTBOX_PARK_MISSING_TOPIC_AFTER_S", "600")


async def test_a_row_for_a_topic_created_late_is_published_not_parked(
    patient_with_missing_topics: None, echo: ServiceRuntime, bootstrap: str, suffix: str
) -> None:
    late = f"late-{suffix}"
    await outbox(echo, b"early", topic=late)
    await outbox(echo, b"after")
    # The relay waits for the topic: it has failed for longer than its grace period.
    await eventually(lambda: not echo.relay.healthy())

    await ensure_topics(bootstrap, [late], partitions=1)
    await read_until(bootstrap, late, has_values(b"early"))
    await read_until(bootstrap, echo.settings.topic_schedule, has_values(b"after"))
    assert await parked_rows(DATABASE_URL, [echo.schema]) == []
    await eventually(echo.relay.healthy)


def kill_sender(producer: AIOKafkaProducer) -> None:
    """The next produce request ends aiokafka's sender task with the error a broker gives a
    producer whose sequence numbers it lost (e.g. after a restart): the producer is dead."""

    async def out_of_order(*_args: object) -> None:
        raise OutOfOrderSequenceNumber

    producer._sender._send_produce_req = out_of_order


async def test_a_producer_whose_sender_died_is_replaced_and_later_rows_go_out(
    echo: ServiceRuntime, bootstrap: str
) -> None:
    topic = echo.settings.topic_schedule
    first, second, third = (f"{n}-{uuid.uuid4().hex}".encode() for n in range(3))
    await outbox(echo, first)
    await read_until(bootstrap, topic, has_values(first))
    dead = echo.relay.producer
    kill_sender(dead)

    await outbox(echo, second)
    await outbox(echo, third)

    records = await read_until(bootstrap, topic, has_values(first, second, third))
    assert {r.value for r in records} >= {first, second, third}
    assert echo.relay.producer is not dead
    assert dead._sender.sender_task.done()


async def test_health_says_503_while_the_relay_cannot_publish_and_the_backlog_ages(
    echo: ServiceRuntime, bootstrap: str
) -> None:
    def oldest_age() -> float:
        value = echo.metrics.registry.get_sample_value(
            "courseflow_outbox_oldest_unsent_age_seconds", {"service": echo.name}
        )
        return -1.0 if value is None else value

    transport = httpx.ASGITransport(app=echo.health_route())
    async with httpx.AsyncClient(transport=transport, base_url="http://echo") as http:

        async def status() -> int:
            return (await http.get("/health")).status_code

        async def unavailable() -> bool:
            return await status() == 503

        assert await status() == 200
        await outbox(echo, b"first")
        await read_until(bootstrap, echo.settings.topic_schedule, has_values(b"first"))
        await eventually(lambda: oldest_age() == 0.0)

        echo.relay.build_producer = unreachable_producer  # no new producer can connect
        kill_sender(echo.relay.producer)
        await outbox(echo, b"stuck")
        await eventually(lambda: echo.metrics.registry.get_sample_value(
            "courseflow_outbox_producer_replaced_total", {"service": echo.name}
        ) is None and has_no_producer(echo))  # fmt: skip
        await eventually(lambda: oldest_age() > 0)
        seen = oldest_age()
        await eventually(lambda: oldest_age() > seen)
        # No producer now: 503 because the relay has failed for longer than its grace period.
        await eventually(unavailable)
        assert not await echo.healthy()


def has_no_producer(runtime: ServiceRuntime) -> bool:
    try:
        _ = runtime.relay.producer
    except RuntimeError:
        return True
    return False


def unreachable_producer() -> AIOKafkaProducer:
    nobody_listens = f"127.0.0.1:{free_port()}"
    return AIOKafkaProducer(bootstrap_servers=nobody_listens, request_timeout_ms=2000)


async def test_health_says_503_once_a_consume_loop_has_ended(echo: ServiceRuntime) -> None:
    assert await echo.healthy()
    loops = [task for sub in echo.broker.subscribers for task in getattr(sub, "tasks", [])]
    assert loops
    for task in loops:
        task.cancel()  # the loop ends as if the consumer had stopped under it

    await eventually(lambda: all(task.done() for task in loops))
    assert not await echo.healthy()


async def test_a_standby_replica_is_healthy_and_takes_over_when_the_leader_stops(
    echo: ServiceRuntime, bootstrap: str, suffix: str
) -> None:
    await outbox(echo, b"by-the-leader")
    await read_until(bootstrap, echo.settings.topic_schedule, has_values(b"by-the-leader"))
    standby = build(echo.name, suffix)  # a second replica of the same service
    await standby.start()
    try:
        await eventually(lambda: echo.relay.published >= 1)
        assert await standby.healthy()
        await echo.stop()  # the leader goes away; the standby takes the relay lock

        await outbox(standby, b"by-the-standby")
        await read_until(bootstrap, standby.settings.topic_schedule, has_values(b"by-the-standby"))
        await eventually(lambda: standby.relay.published == 1)
        assert await standby.healthy()
    finally:
        await standby.stop()
