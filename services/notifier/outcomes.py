"""The delivery outcome as output events: notice.issued, and a dead letter when it failed."""

from dataclasses import dataclass
from datetime import datetime

from schemas.codec import new_event, to_bytes
from schemas.notices import NoticeIssued
from services.notifier.deliveries import DeliveryRow
from services.runtime.outbox import OutboxMessage

CONSUMER = "notifier"


@dataclass(frozen=True, slots=True)
class Outcomes:
    notices_topic: str
    dead_letters_topic: str
    source: str

    def issued(self, row: DeliveryRow, delivery: str, attempts: int, now: datetime) -> bytes:
        event = new_event(
            NoticeIssued,
            id=f"notice:{row.notice_id}",
            source=self.source,
            subject=row.patient_id,
            time=now,
            causationid=row.cause_id,
            correlationid=row.correlation_id or row.cause_id,
            traceparent=row.traceparent,
            tracestate=row.tracestate,
            data={
                "notice_id": row.notice_id, "kind": row.kind, "audience": "staff",
                "channel": row.channel, "recipient": row.recipient, "summary": row.summary,
                "rules": row.rules, "cause_id": row.cause_id, "delivery": delivery,
                "attempts": max(attempts, 1),
            },
        )  # fmt: skip
        return to_bytes(event)

    def messages(
        self, row: DeliveryRow, delivery: str, attempts: int, now: datetime, error: str | None
    ) -> list[OutboxMessage]:
        value = self.issued(row, delivery, attempts, now)
        key = row.patient_id.encode()
        published = OutboxMessage(self.notices_topic, key, value)
        if delivery == "delivered":
            return [published]
        reason = " ".join(f"notice not delivered after {attempts} attempt(s): {error}".split())
        dead = OutboxMessage(
            self.dead_letters_topic, key, value,
            headers=(
                ("x-error", reason[:500].encode()),
                ("x-consumer", CONSUMER.encode()),
                ("x-source-topic", row.source_topic.encode()),
                ("x-source-partition", str(row.source_partition).encode()),
                ("x-source-offset", str(row.source_offset).encode()),
            ),
        )  # fmt: skip
        return [published, dead]
