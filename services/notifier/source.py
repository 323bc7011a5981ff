"""Remembers which Kafka record is being handled, so a notice's dead letter can name it.

The shared pipeline hands the handler only the parsed event; this subclass keeps the
record's position in a context variable for the length of that one call.
"""

from contextvars import ContextVar
from dataclasses import dataclass

from services.notifier.queueing import Source
from services.runtime.db import Conn
from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import BatchResult, E, Pipeline

_UNKNOWN = Source("unknown", -1, -1)
_current: ContextVar[Source | None] = ContextVar("notifier_source", default=None)


def current_source() -> Source:
    return _current.get() or _UNKNOWN


@dataclass
class SourceTrackingPipeline(Pipeline[E]):
    async def _one(
        self, conn: Conn, incoming: Incoming, result: BatchResult
    ) -> list[OutboxMessage]:
        token = _current.set(Source(incoming.topic, incoming.partition, incoming.offset))
        try:
            return await super()._one(conn, incoming, result)
        finally:
            _current.reset(token)
