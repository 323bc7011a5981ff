"""The idempotent consumer: an event's effects are kept once per (consumer, source, id)."""

from collections.abc import Sequence

from services.runtime.db import Conn


async def first_delivery(conn: Conn, consumer: str, source: str, event_id: str) -> bool:
    """Record the event in the same transaction as its effects; False for a duplicate."""
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, source, event_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        source,
        event_id,
    )
    return bool(inserted)


async def first_deliveries(
    conn: Conn, consumer: str, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """`first_delivery` for a whole batch in one statement: the (source, id) pairs that
    were not recorded yet (a pair repeated within `keys` is recorded once)."""
    if not keys:
        return set()
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, source, event_id) "
        "SELECT $1, source, event_id FROM unnest($2::text[], $3::text[]) AS k(source, event_id) "
        "ON CONFLICT DO NOTHING RETURNING source, event_id",
        consumer,
        [source for source, _ in keys],
        [event_id for _, event_id in keys],
    )
    return {(row["source"], row["event_id"]) for row in rows}


async def forget_delivery(conn: Conn, consumer: str, source: str, event_id: str) -> None:
    """Take back an inbox row of this transaction (the event was rejected, not handled)."""
    await conn.execute(
        "DELETE FROM inbox WHERE consumer = $1 AND source = $2 AND event_id = $3",
        consumer,
        source,
        event_id,
    )
