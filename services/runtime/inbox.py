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
