"""The asyncpg pool and the migrations of one service schema.

Each service owns one Postgres schema: the runtime's tables (inbox, outbox) and the service's
own migrations are applied there at start-up, in name order, each once, under an advisory
lock so that replicas starting together do not race.
"""

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import asyncpg

from services.runtime.locks import LockNamespace, lock_keys

T = TypeVar("T")

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.Connection

RUNTIME_MIGRATIONS = Path(__file__).parent / "migrations"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked_schema(schema: str) -> str:
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"not a safe schema name: {schema!r}")
    return schema


# A statement that takes longer fails with TimeoutError (transient: retried, never skipped).
DEFAULT_COMMAND_TIMEOUT_S = 30.0
# Except a migration (it may rewrite a large table) and the wait for another replica's.
MIGRATION_TIMEOUT_S = 3600.0


async def create_pool(
    url: str,
    schema: str,
    *,
    max_size: int = 10,
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT_S,
) -> asyncpg.Pool:
    checked_schema(schema)
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_size,
        command_timeout=command_timeout,
        server_settings={
            "search_path": schema,
            "application_name": f"courseflow-{schema}",
            # Each statement is planned with its arguments and the tables as they are now.
            # A pooled connection keeps its prepared statements, and the plan PostgreSQL
            # would otherwise keep after five runs is made for the tables of that moment:
            # one made while a table was empty (a fresh schema, the first minutes of a
            # clinic) scanned the whole table at every later run (docs/performance.md).
            "plan_cache_mode": "force_custom_plan",
        },
    )
    if pool is None:  # pragma: no cover - asyncpg types the pool as optional
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def migrate(conn: Conn, schema: str, folders: Sequence[Path] = ()) -> list[str]:
    """Apply the runtime's migrations, then the service's; return the names newly applied."""
    schema = checked_schema(schema)
    applied: list[str] = []
    async with conn.transaction():
        await lock_keys(
            conn, LockNamespace.MIGRATION, [schema], command_timeout_s=MIGRATION_TIMEOUT_S
        )
        # A least-privilege role finds its schema made for it and may not create schemas.
        if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for folder in (RUNTIME_MIGRATIONS, *folders):
            for path in sorted(folder.glob("*.sql")):
                name = f"{folder.parent.name}/{path.name}"
                if name in done:
                    continue
                await conn.execute(path.read_text(), timeout=MIGRATION_TIMEOUT_S)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
    return applied


async def states_by_key(
    conn: Conn, sql: str, keys: Sequence[str], initial: T, parse: Callable[[asyncpg.Record], T]
) -> dict[str, T]:
    """Every key's state, `initial` for a key without a row: a repository's `load_many`.
    `sql` selects the rows of the keys in `$1` (text[]), the key in their first column."""
    rows = await conn.fetch(sql, list(keys))
    states = dict.fromkeys(keys, initial)
    states |= {row[0]: parse(row) for row in rows}
    return states
