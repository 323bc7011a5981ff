"""What an output event carries from the event that caused it (CONTRACT.md, envelope).

`causationid` is the cause's `id`; `correlationid` is copied (or starts at the cause's id);
`traceparent` and `tracestate` (W3C Trace Context) are copied as they came.
"""

from dataclasses import dataclass
from typing import Protocol, TypedDict


class Causing(Protocol):
    """What a cause gives the events it causes (an envelope's attributes)."""

    @property
    def id(self) -> str: ...
    @property
    def correlationid(self) -> str | None: ...
    @property
    def traceparent(self) -> str | None: ...
    @property
    def tracestate(self) -> str | None: ...


class CausedAttributes(TypedDict):
    causationid: str
    correlationid: str
    traceparent: str | None
    tracestate: str | None


@dataclass(frozen=True, slots=True)
class Cause:
    id: str
    correlation_id: str
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def of(cls, event: Causing) -> "Cause":
        return cls(event.id, event.correlationid or event.id, event.traceparent, event.tracestate)

    @classmethod
    def internal(cls, cause_id: str) -> "Cause":
        """A cause inside the service (a timer's day): it starts its own correlation."""
        return cls(cause_id, cause_id)

    def attributes(self) -> CausedAttributes:
        """The envelope attributes of a caused event, as `new_event` keywords."""
        return {
            "causationid": self.id,
            "correlationid": self.correlation_id,
            "traceparent": self.traceparent,
            "tracestate": self.tracestate,
        }
