"""Which Kafka record caused a notice, so that its dead letter can name it."""

from services.notifier.queueing import Source
from services.runtime.pipeline import current_incoming

_UNKNOWN = Source("unknown", -1, -1)


def current_source() -> Source:
    incoming = current_incoming()
    if incoming is None:
        return _UNKNOWN
    return Source(incoming.topic, incoming.partition, incoming.offset)
