"""`courseflow outbox parked`: the outbox rows a relay set aside because they can never be
published (too large, topic gone, not authorised), per service schema, for people.

Read-only; the payload is never printed, only what identifies and explains a row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.runtime.db import checked_schema

_COLUMNS = (
    "id, topic, octet_length(value) + coalesce(octet_length(key), 0) AS size, "
    "park_reason, parked_at"
)


@dataclass(frozen=True, slots=True)
class ParkedRow:
    service: str
    id: int
    topic: str
    size: int
    reason: str
    parked_at: datetime

    def describe(self) -> str:
        return (
            f"{self.service} {self.id} {self.topic} {self.size} bytes {self.reason} "
            f"{self.parked_at.isoformat()}"
        )


async def parked_rows(database_url: str, services: Sequence[str]) -> list[ParkedRow]:
    """Parked rows of each service's schema, oldest first; ValueError for a bad name."""
    schemas = [checked_schema(service) for service in services]
    conn = await asyncpg.connect(database_url)
    try:
        return [row for schema in schemas for row in await _parked_in(conn, schema)]
    finally:
        await conn.close()


async def _parked_in(conn: asyncpg.Connection, schema: str) -> list[ParkedRow]:
    """`schema` is a checked schema name (it is the service's name)."""
    table = f'"{schema}".outbox'
    query = f"SELECT {_COLUMNS} FROM {table} WHERE parked_at IS NOT NULL ORDER BY id"  # noqa: S608
    try:
        rows = await conn.fetch(query)
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
        return []  # that service has not started (or not migrated) yet
    return [
        ParkedRow(schema, r["id"], r["topic"], r["size"], r["park_reason"], r["parked_at"])
        for r in rows
    ]
