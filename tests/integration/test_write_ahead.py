"""A `WritingAhead` repository writes a batch's rows while the batch is still decided.

The pipeline hands it the decisions of every `WRITE_AHEAD_EVERY` in order, then the last
ones before `save_many`; the database works on one write while the fold decides the next
records, and on the last while the batch's messages are encoded; a fold that fails with a
write in flight leaves the connection usable and writes nothing (the one transaction rolls
back); a timer's command is written ahead too.
"""

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
import pytest

from schemas.causes import Cause
from services.runtime.db import Conn
from services.runtime.decider import Context, WritingAhead
from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import WRITE_AHEAD_EVERY
from tests.integration.echo.service import (
    EchoDecided,
    EchoDecider,
    EchoEvent,
    EchoPipeline,
    EchoRepository,
    echo_pipeline,
)
from tests.integration.runtime_pool import migrated_pool

SLOW_WRITE_S = 0.2  # long enough that the fold reaches its next decisions meanwhile


@pytest.fixture
async def pool(suffix: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_pool(f"ahead_{suffix}") as pool:
        yield pool


@dataclass
class Journal:
    """What happened, in order: `write <ids>`, `wrote`, `save <ids>`, `decide <id> <writing>`,
    `encode <id> <writing>`."""

    lines: list[str] = field(default_factory=list)
    writing: bool = False


class EchoWritingAhead(EchoRepository):
    """The echo's effects written ahead, each statement slowed down; `save_many` writes
    nothing of its own, as the contract says."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def write_ahead(self, conn: Conn, decided: Sequence[EchoDecided]) -> None:
        ids = [d.command.id for d in decided]
        self.journal.lines.append(f"write {' '.join(ids)}")
        self.journal.writing = True
        try:
            await conn.execute(
                "INSERT INTO effects (event_id) SELECT unnest($1::text[]) FROM pg_sleep($2)",
                ids,
                SLOW_WRITE_S,
            )
        finally:
            self.journal.writing = False
        self.journal.lines.append("wrote")

    async def save_many(
        self, _conn: Conn, _states: Mapping[str, None], decided: Sequence[EchoDecided]
    ) -> None:
        self.journal.lines.append(f"save {' '.join(d.command.id for d in decided)}")


@dataclass(frozen=True)
class JournalingDecider(EchoDecider):
    """Echoes, noting for each decision whether a write was in flight; `e-<failing>` fails."""

    journal: Journal = field(default_factory=Journal)
    failing: str = ""

    def decide(
        self, state: None, command: EchoEvent, context: Context
    ) -> tuple[None, Sequence[EchoEvent]]:
        self.journal.lines.append(f"decide {command.id} {self.journal.writing}")
        if command.id == self.failing:
            raise RuntimeError("a decision fails")
        return super().decide(state, command, context)

    def encode(self, decided: EchoDecided) -> Sequence[OutboxMessage]:
        self.journal.lines.append(f"encode {decided.command.id} {self.journal.writing}")
        return super().encode(decided)


def pipeline(schema: str, journal: Journal, failing: str = "") -> EchoPipeline:
    built = echo_pipeline(
        "ahead", schema, JournalingDecider("out", journal, failing), give_up_after_s=5.0
    )
    built.repository = EchoWritingAhead(journal)
    return built


def records(count: int) -> list[Incoming]:
    def one(offset: int) -> Incoming:
        body = {"id": f"e-{offset}", "source": "/tests", "type": "echo.ping", "subject": "P-1"}
        return Incoming("clinic", 0, offset, b"P-1", json.dumps(body).encode())

    return [one(offset) for offset in range(count)]


async def effects(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        return [row["event_id"] for row in await conn.fetch("SELECT event_id FROM effects")]


async def test_a_batch_is_written_ahead_in_order_every_so_many_decisions_then_saved(
    pool: asyncpg.Pool, suffix: str
) -> None:
    journal = Journal()
    count = 2 * WRITE_AHEAD_EVERY + 10

    result = await pipeline(f"ahead_{suffix}", journal).handle(pool, records(count))

    assert (result.handled, result.dead_letters) == (count, 0)
    writes = [line.split()[1:] for line in journal.lines if line.startswith("write")]
    ids = [f"e-{n}" for n in range(count)]
    assert writes == [
        ids[:WRITE_AHEAD_EVERY], ids[WRITE_AHEAD_EVERY : 2 * WRITE_AHEAD_EVERY],
        ids[2 * WRITE_AHEAD_EVERY :],
    ]  # fmt: skip
    assert journal.lines[-2:] == ["wrote", f"save {' '.join(ids)}"]
    assert sorted(await effects(pool)) == sorted(ids)
    # The database wrote the first decisions while the next ones were decided, and the last
    # ones while the batch's messages were encoded.
    assert f"decide e-{WRITE_AHEAD_EVERY} True" in journal.lines
    assert [line for line in journal.lines if line.startswith("encode")] == [
        f"encode {event_id} True" for event_id in ids
    ]


async def test_a_fold_failing_with_a_write_in_flight_writes_nothing_and_is_isolated(
    pool: asyncpg.Pool, suffix: str
) -> None:
    journal = Journal()
    failing = WRITE_AHEAD_EVERY + 1  # decided while the first write is in flight
    count = WRITE_AHEAD_EVERY + 5

    result = await pipeline(f"ahead_{suffix}", journal, f"e-{failing}").handle(pool, records(count))

    assert f"decide e-{failing} True" in journal.lines
    assert (result.handled, result.dead_letters) == (count - 1, 1)
    assert sorted(await effects(pool)) == sorted(f"e-{n}" for n in range(count) if n != failing)


async def test_a_timers_command_is_written_ahead_before_it_is_saved(
    pool: asyncpg.Pool, suffix: str
) -> None:
    journal = Journal()
    built = pipeline(f"ahead_{suffix}", journal)
    assert isinstance(built.repository, WritingAhead)
    command = EchoEvent("t-1", "/tests", "echo.ping", "P-1")

    async with pool.acquire() as conn, conn.transaction():
        await built.fire(conn, "P-1", command, Cause.internal("timer"))

    assert journal.lines == [
        "decide t-1 False",
        "write t-1",
        "wrote",
        "save t-1",
        "encode t-1 False",
    ]
    assert await effects(pool) == ["t-1"]
