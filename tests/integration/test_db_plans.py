"""A service's statements are planned for the tables as they are when they run, not as they
were when the connection first ran them: a plan made for an empty table (a fresh schema, a
new clinic) scanned the whole table at every run once it had grown (found with
pg_stat_statements in `make bench`: the notifier's lease of its deliveries read about 90
pages per notice)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

import services.notifier.app
from services.notifier import deliveries
from tests.integration.runtime_pool import migrated_pool

NOTIFIER = Path(services.notifier.app.__file__).parent / "migrations"
# Counted by this backend and not reported yet: a difference is this transaction's own.
SCANS = (
    "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables "
    "WHERE schemaname = current_schema() AND relname = 'deliveries'"
)


@pytest.fixture
async def pool(suffix: str, db: asyncpg.Connection) -> AsyncIterator[asyncpg.Pool]:
    schema = f"plans_{suffix}"
    try:
        async with migrated_pool(schema, [NOTIFIER]) as pool:
            yield pool
    finally:
        await db.execute(f"DROP SCHEMA {schema} CASCADE")


async def test_the_lease_of_deliveries_finds_them_by_index_once_the_table_has_grown(
    pool: asyncpg.Pool,
) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        for _ in range(10):  # more runs than PostgreSQL plans afresh before it keeps a plan
            await deliveries.start_attempts(conn, [(str(uuid.uuid4()), now)])
        await conn.execute(
            "INSERT INTO deliveries (notice_id, cause_id, kind, recipient, channel, family, "
            "patient_id, summary, rules, source_topic, source_partition, source_offset, due_at) "
            "SELECT gen_random_uuid(), 'cause-' || i, 'course_scheduled', 'front-desk', 'log', "
            "'schedule', 'P-' || i, repeat('s', 200), '{R-1}', 't', 0, i, now() "
            "FROM generate_series(1, 20000) AS i"
        )
        leased = await conn.fetchval("SELECT notice_id::text FROM deliveries LIMIT 1")
        async with conn.transaction():
            before = await conn.fetchrow(SCANS)
            await deliveries.start_attempts(conn, [(leased, now)])
            after = await conn.fetchrow(SCANS)
            attempts = await conn.fetchval(
                "SELECT attempts FROM deliveries WHERE notice_id = $1", uuid.UUID(leased)
            )
    assert before is not None
    assert after is not None
    assert attempts == 1
    assert after["seq_scan"] == before["seq_scan"]
    assert after["idx_scan"] > before["idx_scan"]
