"""The idempotent consumer: an event's effects are kept once per (consumer, source, id)."""

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


async def forget_delivery(conn: Conn, consumer: str, source: str, event_id: str) -> None:
    """Take back an inbox row of this transaction (the event was rejected, not handled)."""
    await conn.execute(
        "DELETE FROM inbox WHERE consumer = $1 AND source = $2 AND event_id = $3",
        consumer,
        source,
        event_id,
    )
