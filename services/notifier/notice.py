"""A notice composed by the core, before routing, and its exactly-once identity."""

import uuid
from dataclasses import dataclass

from services.notifier.calendar_updates import CalendarUpdate
from services.notifier.kinds import Kind

_NOTICE_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4f4b-9a57-1c0c3c1f7e21")
MAX_SUMMARY = 500


@dataclass(frozen=True, slots=True)
class Notice:
    """What staff should learn from one cause; `summary` names rules and dates only."""

    kind: Kind
    patient_id: str
    cause_id: str
    rules: tuple[str, ...]
    summary: str
    calendar: CalendarUpdate | None = None  # sessions to request or cancel (e-mail only)


def notice_id(cause_id: str, kind: Kind, recipient: str) -> str:
    """The same cause, kind and recipient always give the same id (exactly one notice)."""
    return str(uuid.uuid5(_NOTICE_NAMESPACE, f"{cause_id}\x1f{kind.value}\x1f{recipient}"))


def one_line(text: str, limit: int = MAX_SUMMARY) -> str:
    """Collapse whitespace and cut to the contract's one-line limit."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
