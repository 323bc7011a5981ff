"""The idempotent consumer: an event's effects are kept once per (consumer, source, id)."""

from collections.abc import Sequence

from services.runtime.db import Conn


async def first_deliveries(
    conn: Conn, consumer: str, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Record the events in the same transaction as their effects, in one statement: the
    (source, id) pairs not recorded before (a pair repeated within `keys` is recorded once);
    the others are duplicates."""
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


async def forget_deliveries(conn: Conn, consumer: str, keys: Sequence[tuple[str, str]]) -> None:
    """Take back inbox rows of this transaction (their events were rejected, not handled)."""
    if not keys:
        return
    await conn.execute(
        "DELETE FROM inbox WHERE consumer = $1 AND (source, event_id) IN "
        "(SELECT * FROM unnest($2::text[], $3::text[]))",
        consumer,
        [source for source, _ in keys],
        [event_id for _, event_id in keys],
    )
