"""The notifier's batches through the runtime's pipeline on real PostgreSQL: every notice of a
batch is queued in the same few statements whatever the batch's size, coalescing gives what
queueing one notice at a time gave, and a replayed cause adds nothing and takes nothing over."""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest
import structlog

import services.notifier.app
from schemas.codec import to_bytes
from schemas.envelope import Envelope
from services.notifier.decider import NotifierDecider
from services.notifier.repository import NotifierRepository
from services.notifier.routing import parse_routing
from services.runtime.clock import SystemClock, clinic_context
from services.runtime.incoming import Incoming
from services.runtime.pipeline import Pipeline
from services.runtime.wire import decode_any_event
from tests.integration.peers import notifier_harness as h
from tests.integration.runtime_pool import migrated_pool

MIGRATIONS = [Path(services.notifier.app.__file__).parent / "migrations"]
ROUTING = parse_routing({"recipients": {"front-desk": {"channel": "log"}},
                         "routes": [{"kinds": ["*"], "recipients": ["front-desk"]}]})  # fmt: skip
POSTOP = [{"rule": "R-POSTOP", "since": "2026-03-04", "until": "2026-03-18"}]


class _CountingConnection:
    """A pooled connection that counts the statements sent through it (not BEGIN/COMMIT)."""

    def __init__(self, conn: Any, counts: list[int]) -> None:
        self._conn, self._counts = conn, counts

    def transaction(self) -> Any:
        return self._conn.transaction()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._counts.append(1)
        return await self._conn.execute(*args, **kwargs)

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        self._counts.append(1)
        return await self._conn.fetch(*args, **kwargs)

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        self._counts.append(1)
        return await self._conn.fetchval(*args, **kwargs)


@dataclass
class _CountingPool:
    pool: asyncpg.Pool
    counts: list[int]

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_CountingConnection]:
        async with self.pool.acquire() as conn:
            yield _CountingConnection(conn, self.counts)


@dataclass
class Notifier:
    """The notifier's consuming side alone: its pipeline, fed records by hand."""

    schema: str
    db: asyncpg.Connection
    pool: asyncpg.Pool
    offset: int = 0  # of the next record

    async def handle(self, *events: Envelope, window_s: float = 0) -> int:
        """One batch of `events` as records of one partition; the statements it took."""
        decider = NotifierDecider(ROUTING, "UTC", window_s)
        pipeline = Pipeline(
            consumer="notifier", schema=self.schema, decoders={"sched": decode_any_event},
            decider=decider,
            repository=NotifierRepository(coalesce=window_s > 0),
            context=clinic_context(SystemClock(), "UTC"), dead_letter_topic="dead",
            log=structlog.get_logger(),
        )  # fmt: skip
        records = [Incoming("sched", 0, self.offset + n, e.subject.encode(), to_bytes(e))
                   for n, e in enumerate(events)]  # fmt: skip
        self.offset += len(events)
        counts: list[int] = []
        counting = cast("asyncpg.Pool", _CountingPool(self.pool, counts))
        result = await pipeline.handle(counting, records)
        assert (result.handled, result.dead_letters) == (len(events), 0)
        return len(counts)

    async def deliveries(self, patient: str) -> dict[str, asyncpg.Record]:
        rows = await self.db.fetch(
            f"SELECT d.kind, d.status, d.due_at, d.merged_kinds, d.source_offset, c.kind AS "
            f"carried_by FROM {self.schema}.deliveries d LEFT JOIN {self.schema}.deliveries c "
            "ON c.notice_id = d.carried_by WHERE d.patient_id = $1",
            patient,
        )
        return {row["kind"]: row for row in rows}

    async def forget_what_was_handled(self) -> None:
        """As if the inbox had been pruned since: a redelivery reaches the Decider again."""
        await self.db.execute(f"DELETE FROM {self.schema}.inbox")


@pytest.fixture
async def notifier(suffix: str, db: asyncpg.Connection) -> AsyncIterator[Notifier]:
    schema = f"notif_queueing_{suffix}"
    try:
        async with migrated_pool(schema, MIGRATIONS) as pool:
            yield Notifier(schema, db, pool)
    finally:
        await db.execute(f"DROP SCHEMA {schema} CASCADE")


def burst(patients: Sequence[str]) -> list[Envelope]:
    """For each patient a plan change, a decision that blocks, and one that makes eligible:
    notices, memories changed twice, and one memory read per patient."""
    return [
        event
        for patient in patients
        for event in (
            h.schedule_event("suspended", patient),
            h.decision_event(patient, 1, eligible=False, blocks=POSTOP),
            h.decision_event(patient, 2, eligible=True),
        )
    ]


@pytest.mark.parametrize("window_s", [0, 60])
async def test_a_batch_takes_the_same_statements_whatever_its_size(
    notifier: Notifier, window_s: float
) -> None:
    one = await notifier.handle(*burst([h.new_patient()]), window_s=window_s)
    patients = [h.new_patient() for _ in range(20)]
    many = await notifier.handle(*burst(patients), window_s=window_s)
    assert many == one
    queued = [await notifier.deliveries(patient) for patient in patients]
    assert all(set(rows) == {"course_suspended", "rehab_course_eligible"} for rows in queued)
    remembered = await notifier.db.fetchval(
        f"SELECT count(*) FROM {notifier.schema}.patients WHERE version = 2 "
        "AND NOT blocked_by_postop AND patient_id = ANY($1::text[])",
        patients,
    )
    assert remembered == len(patients)


async def test_coalescing_in_a_batch_and_across_batches_is_as_one_notice_at_a_time(
    notifier: Notifier,
) -> None:
    patient, other = h.new_patient(), h.new_patient()
    await notifier.handle(h.schedule_event("suspended", patient), window_s=60)
    await notifier.handle(
        h.schedule_event("resumed", patient), h.schedule_event("suspended", other),
        h.schedule_event("rescheduled", patient), window_s=60,
    )  # fmt: skip
    rows = await notifier.deliveries(patient)
    carrier = rows["sessions_rescheduled"]
    assert (carrier["status"], carrier["carried_by"]) == ("pending", None)
    assert carrier["merged_kinds"] == ["course_suspended", "course_resumed"]
    assert carrier["due_at"] == rows["course_suspended"]["due_at"]  # the earliest one's
    for merged in ("course_suspended", "course_resumed"):
        assert (rows[merged]["status"], rows[merged]["carried_by"]) == (
            "merged", "sessions_rescheduled",
        )  # fmt: skip
    kinds = ("course_suspended", "course_resumed", "sessions_rescheduled")
    assert [rows[kind]["source_offset"] for kind in kinds] == [0, 1, 3]  # dead letters name it
    assert (await notifier.deliveries(other))["course_suspended"]["status"] == "pending"


async def test_a_replayed_cause_adds_nothing_and_takes_nothing_over(notifier: Notifier) -> None:
    patient = h.new_patient()
    suspended = h.schedule_event("suspended", patient)
    await notifier.handle(suspended, window_s=60)
    await notifier.handle(h.schedule_event("resumed", patient), window_s=60)
    before = await notifier.deliveries(patient)
    await notifier.forget_what_was_handled()
    await notifier.handle(suspended, window_s=60)
    assert await notifier.deliveries(patient) == before
    assert before["course_resumed"]["status"] == "pending"
    assert before["course_suspended"]["carried_by"] == "course_resumed"


async def test_calendars_are_stored_as_the_json_text_written(notifier: Notifier) -> None:
    # json, not jsonb: PostgreSQL checks the syntax and keeps the text, so neither a write
    # builds a binary document nor a read prints one again (migration 0006).
    patient = h.new_patient()
    await notifier.handle(h.schedule_event("suspended", patient))
    types = await notifier.db.fetch(
        "SELECT table_name, data_type FROM information_schema.columns "
        "WHERE table_schema = $1 AND column_name = 'calendar' ORDER BY table_name",
        notifier.schema,
    )
    assert [(row["table_name"], row["data_type"]) for row in types] == [
        ("deliveries", "json"), ("patients", "json"),
    ]  # fmt: skip
    stored = await notifier.db.fetchval(
        f"SELECT calendar::text FROM {notifier.schema}.patients WHERE patient_id = $1", patient
    )
    [course] = json.loads(stored)
    assert (course["sessions"], course["tentative"]) == ([], False)  # suspended: none announced
    # The keys in the order written (jsonb keeps them ordered by length instead).
    assert list(course) == ["course_id", "version", "tentative", "sessions", "shortage_on"]
