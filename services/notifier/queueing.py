"""Queue a notice for a recipient once, merging waiting notices when coalescing (coalesce.py)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.notifier.coalesce import merged_summary
from services.notifier.kinds import family
from services.notifier.notice import Notice, notice_id
from services.notifier.wording import merged_rules
from services.runtime.db import Conn


@dataclass(frozen=True, slots=True)
class Source:
    """Where the cause was read: dead letters of this notice point back to it."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Addressed:
    notice: Notice
    recipient: str
    channel: str
    correlation_id: str | None
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def notice_id(self) -> str:
        return notice_id(self.notice.cause_id, self.notice.kind, self.recipient)


async def queue(
    conn: Conn, item: Addressed, source: Source, due_at: datetime, *, coalesce: bool
) -> bool:
    """False when this notice already exists (a redelivered or replayed cause)."""
    n = item.notice
    new_id = uuid.UUID(item.notice_id)
    inserted = await conn.fetchval(
        "INSERT INTO deliveries (notice_id, cause_id, kind, recipient, channel, family, "
        "patient_id, correlation_id, summary, rules, source_topic, source_partition, "
        "source_offset, due_at, traceparent, tracestate) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING RETURNING true",
        new_id, n.cause_id, n.kind.value, item.recipient, item.channel, family(n.kind),
        n.patient_id, item.correlation_id, n.summary, list(n.rules), source.topic,
        source.partition, source.offset, due_at, item.traceparent, item.tracestate,
    )  # fmt: skip
    if inserted and coalesce:
        await _take_over_waiting(conn, item, new_id)
    return bool(inserted)


async def _take_over_waiting(conn: Conn, item: Addressed, new_id: uuid.UUID) -> None:
    # Only notices never attempted: an attempt is committed before its send (worker.py), so
    # a notice that may have reached the recipient under its own id is never carried again
    # under another. Rows a worker is claiming right now are locked: skipped.
    waiting = await conn.fetch(
        "SELECT notice_id, kind, due_at, rules, merged_kinds FROM deliveries "
        "WHERE patient_id = $1 AND recipient = $2 AND family = $3 AND status = 'pending' "
        "AND attempts = 0 AND notice_id <> $4 ORDER BY created_at FOR UPDATE SKIP LOCKED",
        item.notice.patient_id, item.recipient, family(item.notice.kind), new_id,
    )  # fmt: skip
    if not waiting:
        return
    ids = [row["notice_id"] for row in waiting]
    kinds = [k for row in waiting for k in (*row["merged_kinds"], row["kind"])]
    rules = merged_rules(item.notice.rules, *(row["rules"] for row in waiting))
    await conn.execute(
        "UPDATE deliveries SET status = 'merged', carried_by = $1 "
        "WHERE notice_id = ANY($2::uuid[]) OR carried_by = ANY($2::uuid[])",
        new_id,
        ids,
    )
    await conn.execute(
        "UPDATE deliveries SET due_at = $2, rules = $3, merged_kinds = $4, summary = $5 "
        "WHERE notice_id = $1",
        new_id, min(row["due_at"] for row in waiting), list(rules), kinds,
        merged_summary(item.notice.summary, item.notice.rules, kinds, rules),
    )  # fmt: skip
