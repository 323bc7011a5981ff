"""The deliveries table read and written by the worker: claim what is due, record outcomes."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifier.message import OutgoingNotice
from services.runtime.db import Conn

_COLUMNS = (
    "notice_id::text AS notice_id, cause_id, kind, recipient, channel, patient_id, "
    "correlation_id, summary, rules, source_topic, source_partition, source_offset, attempts"
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


async def carried_by(conn: Conn, notice_id: str) -> list[DeliveryRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE carried_by = $1 ORDER BY created_at",  # noqa: S608
        uuid.UUID(notice_id),
    )
    return [DeliveryRow.from_record(r) for r in rows]


async def finish(conn: Conn, notice_id: str, status: str, attempts: int, error: str | None) -> None:
    """The final outcome, for the notice and every notice it carried."""
    await conn.execute(
        "UPDATE deliveries SET status = $2, attempts = $3, last_error = $4, finished_at = now() "
        "WHERE notice_id = $1 OR carried_by = $1",
        uuid.UUID(notice_id),
        status,
        attempts,
        error,
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
