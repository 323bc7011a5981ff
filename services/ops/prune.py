"""`courseflow db prune`: inbox, sent outbox and finished delivery rows past their retention,
and the planner's past bookings.

Each service's schema is pruned table by table in bounded batches, each batch its own short
transaction (no long lock, no huge WAL burst), until a batch finds nothing: run it again and
it deletes nothing more. What is never touched: unsent outbox rows, pending deliveries, and
a delivery that a newer one still points at (`carried_by`, coalescing): carried rows go
first, their carrier in a later batch, so the foreign key always holds.

A booking that ended before the planner's clinic-local yesterday is never read again by the
planner (it places nothing there, and keeps a past session's placement without its row);
it is kept `bookings_days` for operators looking back, then goes: clinic by clinic, each
batch under the clinic's lock, as a planner batch writes them. The bookings of a course with
one therapist are one row (migration 0010): they go together, once the last has ended
`bookings_days` ago.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.runtime.db import checked_schema
from services.runtime.locks import LockNamespace, lock_keys


@dataclass(frozen=True, slots=True)
class Retention:
    inbox_days: int
    outbox_days: int
    deliveries_days: int
    bookings_days: int = 30

    @classmethod
    def uniform(cls, days: int) -> "Retention":
        return cls(days, days, days, days)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    days: Callable[[Retention], int]
    # One batch: $1 the cut-off time, $2 the batch size; `{t}` is the schema-qualified table
    # (and `{ended}`, of a per-clinic one, `ended`).
    delete_batch: str
    # $3 a clinic, each batch under that clinic's lock, as a planner batch writes its bookings
    # (and through `bookings_written` the clinic's token): the two queue, never deadlock.
    per_clinic: bool = False
    ended: str = ""  # a per-clinic table: the SQL of when a row ended


TABLES = (
    Table(
        "inbox",
        lambda r: r.inbox_days,
        "DELETE FROM {t} WHERE (consumer, source, event_id) IN (SELECT consumer, source, event_id"
        " FROM {t} WHERE received_at < $1 LIMIT $2)",
    ),
    Table(
        "outbox",
        lambda r: r.outbox_days,
        "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE sent_at < $1 ORDER BY id LIMIT $2)",
    ),
    Table(
        "deliveries",
        lambda r: r.deliveries_days,
        "DELETE FROM {t} WHERE notice_id IN (SELECT d.notice_id FROM {t} d"
        " WHERE d.status IN ('delivered', 'failed', 'merged') AND d.finished_at < $1"
        " AND NOT EXISTS (SELECT 1 FROM {t} c WHERE c.carried_by = d.notice_id)"
        " ORDER BY d.finished_at LIMIT $2)",
    ),
    Table(
        "course_bookings",
        lambda r: r.bookings_days,
        "DELETE FROM {t} WHERE (patient_id, course_id, therapist_id, turnover_min) IN"
        " (SELECT patient_id, course_id, therapist_id, turnover_min FROM {t}"
        " WHERE clinic_id = $3 AND {ended} < $1 ORDER BY {ended} LIMIT $2)",
        per_clinic=True,
        # A row holds a course's sessions with one therapist in order of start: the last
        # ends last (migration 0010).
        ended="ends_at[cardinality(ends_at)]",
    ),
)


async def prune(  # noqa: PLR0913 (the keyword-only ones: how, when, where to tell)
    url: str,
    schemas: Iterable[str],
    retention: Retention,
    *,
    batch_size: int,
    now: datetime,
    report: Callable[[str], None],
) -> dict[str, int]:
    """Rows deleted per `schema.table`; a line to `report` per batch and per table."""
    deleted: dict[str, int] = {}
    conn = await asyncpg.connect(url)
    try:
        for schema in schemas:
            for table in TABLES:
                qualified = f'"{checked_schema(schema)}"."{table.name}"'
                if await conn.fetchval("SELECT to_regclass($1)", qualified) is None:
                    continue
                days = table.days(retention)
                cutoff = now - timedelta(days=days)
                statement = table.delete_batch.format(t=qualified, ended=table.ended)
                total = 0
                for clinic_id in await _clinics(conn, table, qualified, cutoff):
                    while True:
                        count = await _delete_batch(
                            conn, statement, (cutoff, batch_size), schema, clinic_id
                        )
                        if count == 0:
                            break
                        total += count
                        report(f"{schema}.{table.name}: deleted {count} ({total} so far)")
                report(f"{schema}.{table.name}: {total} rows older than {days} days deleted")
                deleted[f"{schema}.{table.name}"] = total
    finally:
        await conn.close()
    return deleted


async def _clinics(
    conn: asyncpg.Connection, table: Table, qualified: str, cutoff: datetime
) -> list[str | None]:
    """The clinics whose rows a per-clinic table deletes, in order; [None] for another."""
    if not table.per_clinic:
        return [None]
    rows = await conn.fetch(
        f"SELECT DISTINCT clinic_id FROM {qualified} WHERE {table.ended} < $1 ORDER BY 1",  # noqa: S608
        cutoff,
    )
    return [row["clinic_id"] for row in rows]


async def _delete_batch(
    conn: asyncpg.Connection,
    statement: str,
    args: tuple[datetime, int],
    schema: str,
    clinic_id: str | None,
) -> int:
    """One batch in its own transaction; a clinic's under the planner's lock of the clinic."""
    async with conn.transaction():
        if clinic_id is None:
            status = await conn.execute(statement, *args)
        else:
            await lock_keys(conn, LockNamespace.CLINIC, [f"{schema}:{clinic_id}"])
            status = await conn.execute(statement, *args, clinic_id)
    return int(status.rsplit(" ", 1)[-1])
