"""The notice as a recipient receives it (webhook JSON body, e-mail text, log line)."""

import json
from dataclasses import dataclass
from typing import Any

from services.notifier.calendar_updates import CalendarUpdate


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    notice_id: str
    kind: str
    recipient: str
    channel: str
    patient_id: str
    cause_id: str
    summary: str
    rules: tuple[str, ...]
    merged_notice_ids: tuple[str, ...] = ()
    # Sessions to request or cancel in the recipient's calendar: e-mail only, never in the
    # webhook's body (its shape is the contract's).
    calendar: CalendarUpdate | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "notice_id": self.notice_id,
            "kind": self.kind,
            "audience": "staff",
            "recipient": self.recipient,
            "channel": self.channel,
            "patient_id": self.patient_id,
            "cause_id": self.cause_id,
            "summary": self.summary,
            "rules": list(self.rules),
            "merged_notice_ids": list(self.merged_notice_ids),
        }

    def body(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()
