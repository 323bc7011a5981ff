"""The deliveries table read and written by the worker: claim what is due, record outcomes."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifier import calendar_updates
from services.notifier.calendar_updates import CalendarUpdate
from services.notifier.message import OutgoingNotice
from services.runtime.db import Conn

_COLUMNS = (
    "notice_id::text AS notice_id, cause_id, kind, recipient, channel, patient_id, "
    "correlation_id, summary, rules, source_topic, source_partition, source_offset, attempts, "
    "traceparent, tracestate, calendar::text AS calendar, "
    "cardinality(merged_kinds) > 0 AS carries"
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
    calendar: str | None = None  # CalendarUpdate as JSON (e-mail rows only)
    # Other notices were merged into this one (coalescing): a carrier always names their
    # kinds (`coalesce._taking_over`), so a row without any carries none.
    carries: bool = False

    @classmethod
    def from_record(cls, record: Any) -> "DeliveryRow":
        return cls(**{**dict(record), "rules": tuple(record["rules"])})

    def outgoing(self, merged: list["DeliveryRow"]) -> OutgoingNotice:
        """The notice as sent; its calendar part says what every notice it carries said."""
        calendars = [row.calendar_update() for row in (*merged, self)]
        return OutgoingNotice(
            self.notice_id, self.kind, self.recipient, self.channel, self.patient_id,
            self.cause_id, self.summary, self.rules, tuple(m.notice_id for m in merged),
            calendar_updates.merged(calendars),
        )  # fmt: skip

    def calendar_update(self) -> CalendarUpdate | None:
        return None if self.calendar is None else CalendarUpdate.from_json(self.calendar)


async def claim_due(conn: Conn, now: datetime, limit: int) -> list[DeliveryRow]:
    """Due deliveries, locked until this transaction ends; other workers skip them. A row
    whose lease (`due_at`) has not ended is not due: its attempt may still be under way."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE status = 'pending' AND due_at <= $1 "  # noqa: S608
        "ORDER BY due_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [DeliveryRow.from_record(r) for r in rows]


async def start_attempts(conn: Conn, leases: Sequence[tuple[str, datetime]]) -> None:
    """Count one more attempt of each notice and lease it until the given time, committed
    before anything is sent: a crash after sending can neither lose the count nor cause a
    resend before the lease ends, and an attempted notice is never merged (coalesce.py)."""
    if not leases:
        return
    await conn.execute(
        "UPDATE deliveries AS d SET attempts = d.attempts + 1, due_at = l.due_at "
        "FROM unnest($1::uuid[], $2::timestamptz[]) AS l(notice_id, due_at) "
        "WHERE d.notice_id = l.notice_id",
        [uuid.UUID(notice_id) for notice_id, _ in leases],
        [due_at for _, due_at in leases],
    )


async def carried_by(conn: Conn, notice_ids: Sequence[str]) -> dict[str, list[DeliveryRow]]:
    """For each notice, the notices merged into it (coalescing), oldest first."""
    if not notice_ids:
        return {}
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


async def finish(conn: Conn, outcomes: Sequence[Outcome]) -> set[str]:
    """The final outcomes, each for its notice and every notice it carried, in one go.

    Only an attempt that is still the notice's latest is recorded (a replica may have taken
    over an expired lease meanwhile); the notices recorded are returned."""
    if not outcomes:
        return set()
    recorded = await conn.fetch(
        "WITH done AS (UPDATE deliveries AS d SET status = o.status, last_error = o.error, "
        "finished_at = now() "
        "FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[]) "
        "AS o(notice_id, status, attempts, error) "
        "WHERE d.notice_id = o.notice_id AND d.attempts = o.attempts AND d.status = 'pending' "
        "RETURNING d.notice_id, d.status, d.attempts, d.last_error), "
        "carried AS (UPDATE deliveries AS m SET status = done.status, "
        "attempts = done.attempts, last_error = done.last_error, finished_at = now() "
        "FROM done WHERE m.carried_by = done.notice_id) "
        "SELECT notice_id::text FROM done",
        [uuid.UUID(o.notice_id) for o in outcomes],
        [o.status for o in outcomes],
        [o.attempts for o in outcomes],
        [o.error for o in outcomes],
    )
    return {row["notice_id"] for row in recorded}


async def retry_later(
    conn: Conn, notice_id: str, attempts: int, due_at: datetime, error: str
) -> None:
    """A failed attempt is retried after its backoff, if it is still the latest attempt."""
    await conn.execute(
        "UPDATE deliveries SET due_at = $3, last_error = $4 "
        "WHERE notice_id = $1 AND attempts = $2 AND status = 'pending'",
        uuid.UUID(notice_id),
        attempts,
        due_at,
        error,
    )


async def next_due_at(conn: Conn) -> datetime | None:
    """When the earliest pending delivery is due (a retry, a lease's end, a coalescing
    window), or None when nothing is pending."""
    due: datetime | None = await conn.fetchval(
        "SELECT min(due_at) FROM deliveries WHERE status = 'pending'"
    )
    return due
