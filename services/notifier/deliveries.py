"""The deliveries table read and written by the worker: claim what is due, record outcomes."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifier.message import OutgoingNotice
from services.runtime.db import Conn

_COLUMNS = (
    "notice_id::text AS notice_id, cause_id, kind, recipient, channel, patient_id, "
    "correlation_id, summary, rules, source_topic, source_partition, source_offset, attempts, "
    "traceparent, tracestate"
)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    notice_id: str
    cause_id: str
    kind: str
    recipient: str
    channel: str
    patient_id: str
    correlation_id: str | None
    summary: str
    rules: tuple[str, ...]
    source_topic: str
    source_partition: int
    source_offset: int
    attempts: int
    traceparent: str | None = None  # W3C Trace Context of the cause, for notice.issued
    tracestate: str | None = None

    @classmethod
    def from_record(cls, record: Any) -> "DeliveryRow":
        return cls(**{**dict(record), "rules": tuple(record["rules"])})

    def outgoing(self, merged: list["DeliveryRow"]) -> OutgoingNotice:
        return OutgoingNotice(
            self.notice_id, self.kind, self.recipient, self.channel, self.patient_id,
            self.cause_id, self.summary, self.rules, tuple(m.notice_id for m in merged),
        )  # fmt: skip


async def claim_due(conn: Conn, now: datetime, limit: int) -> list[DeliveryRow]:
    """Due deliveries, locked until this transaction ends; other workers skip them."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE status = 'pending' AND due_at <= $1 "  # noqa: S608
        "ORDER BY due_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [DeliveryRow.from_record(r) for r in rows]


async def carried_by(conn: Conn, notice_ids: Sequence[str]) -> dict[str, list[DeliveryRow]]:
    """For each notice, the notices merged into it (coalescing), oldest first."""
    rows = await conn.fetch(
        f"SELECT carried_by::text AS carrier, {_COLUMNS} FROM deliveries "  # noqa: S608
        "WHERE carried_by = ANY($1::uuid[]) ORDER BY created_at",
        [uuid.UUID(notice_id) for notice_id in notice_ids],
    )
    carried: dict[str, list[DeliveryRow]] = {}
    for row in rows:
        fields = dict(row)
        carried.setdefault(fields.pop("carrier"), []).append(DeliveryRow.from_record(fields))
    return carried


@dataclass(frozen=True, slots=True)
class Outcome:
    notice_id: str
    status: str  # "delivered" or "failed"
    attempts: int
    error: str | None


async def finish(conn: Conn, outcomes: Sequence[Outcome]) -> None:
    """The final outcomes, each for its notice and every notice it carried, in one go."""
    if not outcomes:
        return
    await conn.execute(
        "UPDATE deliveries AS d SET status = o.status, attempts = o.attempts, "
        "last_error = o.error, finished_at = now() "
        "FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[]) "
        "AS o(notice_id, status, attempts, error) "
        "WHERE d.notice_id = o.notice_id OR d.carried_by = o.notice_id",
        [uuid.UUID(o.notice_id) for o in outcomes],
        [o.status for o in outcomes],
        [o.attempts for o in outcomes],
        [o.error for o in outcomes],
    )


async def retry_later(
    conn: Conn, notice_id: str, attempts: int, due_at: datetime, error: str
) -> None:
    await conn.execute(
        "UPDATE deliveries SET attempts = $2, due_at = $3, last_error = $4 WHERE notice_id = $1",
        uuid.UUID(notice_id),
        attempts,
        due_at,
        error,
    )
