"""A batch failing outside any handler is isolated down to the one record (issue 11, item 2).

Defence in depth behind the input checks: whatever statement the database refuses (here
the outbox insert of one event's output), the batch is run again in halves, in order, and
only the record that fails is dead-lettered; the others take effect once, in order.
"""

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import asyncpg
import pytest

from services.runtime.decider import Context, Rejected
from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import NOT_READ_HERE
from tests.integration.echo.service import (
    EchoDecided,
    EchoDecider,
    EchoDeciding,
    EchoEvent,
    EchoPipeline,
    echo_pipeline,
)
from tests.integration.runtime_pool import migrated_pool


@pytest.fixture
async def pool(suffix: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_pool(f"isolation_{suffix}") as pool:
        yield pool


class EchoUnlessPoisoned(EchoDecider):
    def encode(self, decided: EchoDecided) -> list[OutboxMessage]:
        # A topic name PostgreSQL's text cannot hold: the failure comes from the outbox
        # insert at the end of the batch, after every decision was taken.
        return [
            OutboxMessage("out\x00" if event.type == "echo.poisoned" else "out",
                          event.subject.encode(), event.id.encode())
            for event in decided.outputs
        ]  # fmt: skip


def pipeline(schema: str, decider: EchoDeciding | None = None) -> EchoPipeline:
    return echo_pipeline(
        "isolation", schema, decider or EchoUnlessPoisoned("out"), give_up_after_s=5.0
    )


def record(offset: int, event_type: str = "echo.ping") -> Incoming:
    body = {"id": f"e-{offset}", "source": "/tests", "type": event_type, "subject": "P-1"}
    return Incoming("clinic", 0, offset, b"P-1", json.dumps(body).encode())


async def outbox(pool: asyncpg.Pool) -> list[tuple[str, bytes, dict[str, str]]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT topic, value, headers FROM outbox ORDER BY id")
    return [(r["topic"], bytes(r["value"]), dict(json.loads(r["headers"]))) for r in rows]


async def test_only_the_record_whose_transaction_fails_is_dead_lettered_and_order_is_kept(
    pool: asyncpg.Pool, suffix: str
) -> None:
    records = [record(n) for n in range(5)] + [record(5, "echo.poisoned")]
    records += [record(n) for n in range(6, 9)]

    result = await pipeline(f"isolation_{suffix}").handle(pool, records)
    again = await pipeline(f"isolation_{suffix}").handle(pool, records)  # redelivered

    assert (result.handled, result.dead_letters) == (8, 1)
    assert (again.handled, again.dead_letters, again.duplicates) == (0, 0, 9)
    rows = await outbox(pool)
    assert [(topic, value) for topic, value, _ in rows] == [
        *[("out", f"e-{n}".encode()) for n in range(5)],
        ("dead", records[5].value),
        *[("out", f"e-{n}".encode()) for n in range(6, 9)],
    ]
    dead_headers = rows[5][2]
    assert dead_headers["x-error"] == "could not be processed: CharacterNotInRepertoireError"
    assert dead_headers["x-source-offset"] == "5"


class FailsOnce:
    """A Decider that fails the first time it sees the event `e-<failing>`, then works: a
    failure of the moment (a connection left broken by a database crash), not of the record."""

    def __init__(self, failing: int, error: Exception) -> None:
        self.failing = f"e-{failing}"
        self.error: Exception | None = error
        self.echo = EchoUnlessPoisoned("out")

    def translate(self, event: EchoEvent) -> EchoEvent | Rejected:
        return self.echo.translate(event)

    def decide(
        self, state: None, command: EchoEvent, context: Context
    ) -> tuple[None, Sequence[EchoEvent]]:
        if command.id == self.failing and self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.echo.decide(state, command, context)

    def encode(self, decided: EchoDecided) -> Sequence[OutboxMessage]:
        return self.echo.encode(decided)


@pytest.mark.parametrize(
    "error",
    [asyncpg.InternalClientError("unexpected protocol state"), RuntimeError("once")],
    ids=["driver error", "error of the moment"],
)
async def test_a_record_that_fails_once_is_handled_not_dead_lettered(
    pool: asyncpg.Pool, suffix: str, error: Exception
) -> None:
    # Found by the fault suite: right after a PostgreSQL crash a pooled connection raised
    # InternalClientError and a valid clinic event was dead-lettered. A lone record is
    # dead-lettered only when it fails again.
    flaky = pipeline(f"isolation_{suffix}", FailsOnce(0, error))

    result = await flaky.handle(pool, [record(0)])

    assert (result.handled, result.dead_letters) == (1, 0)
    assert [(topic, value) for topic, value, _ in await outbox(pool)] == [("out", b"e-0")]


async def test_one_batch_of_several_topics_decodes_each_record_by_its_topic(
    pool: asyncpg.Pool, suffix: str
) -> None:
    # One consumer reads several topics (the planner's patient events, decisions and
    # commands): each record is decoded by its own topic's decoder, and a record of a topic
    # the consumer has no decoder for is dead-lettered, not guessed at.
    def rejecting(_raw: bytes) -> Rejected:
        return Rejected("not a ping of this topic")

    two_topics = pipeline(f"isolation_{suffix}")
    two_topics.decoders = {**two_topics.decoders, "other": rejecting}
    records = [record(0), replace(record(1), topic="other"), replace(record(2), topic="unread")]

    result = await two_topics.handle(pool, records)

    assert (result.handled, result.dead_letters) == (1, 2)
    assert result.counts == {("clinic", "handled"): 1, ("other", "dead_letter"): 1,
                             ("unread", "dead_letter"): 1}  # fmt: skip
    rows = await outbox(pool)
    assert [(topic, headers["x-error"] if topic == "dead" else value)
            for topic, value, headers in rows] == [
        ("out", b"e-0"), ("dead", "not a ping of this topic"), ("dead", NOT_READ_HERE),
    ]  # fmt: skip
