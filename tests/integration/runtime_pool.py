"""A pool on a fresh schema with the runtime's and the echo service's tables (and another
service's, from `folders`), for driving a pipeline or a service's parts by hand."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from services.runtime.db import create_pool, migrate
from tests.integration.conftest import DATABASE_URL

ECHO_MIGRATIONS = Path(__file__).parent / "echo" / "migrations"


@asynccontextmanager
async def migrated_pool(schema: str, folders: Sequence[Path] = ()) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DATABASE_URL, schema)
    async with pool.acquire() as conn:
        await migrate(conn, schema, [ECHO_MIGRATIONS, *folders])
    try:
        yield pool
    finally:
        await pool.close()
