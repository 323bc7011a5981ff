"""A pool on a fresh schema with the runtime's and the echo service's tables, for driving a
pipeline by hand."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from services.runtime.db import create_pool, migrate
from tests.integration.conftest import DATABASE_URL


@asynccontextmanager
async def migrated_pool(schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DATABASE_URL, schema)
    async with pool.acquire() as conn:
        await migrate(conn, schema, [Path(__file__).parent / "echo" / "migrations"])
    try:
        yield pool
    finally:
        await pool.close()
