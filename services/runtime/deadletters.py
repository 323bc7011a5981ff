"""Dead letters: the original bytes and key, unchanged, with the reason in headers."""

from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage


def dead_letter(incoming: Incoming, *, reason: str, consumer: str, topic: str) -> OutboxMessage:
    one_line = " ".join(reason.split())[:500]
    return OutboxMessage(
        topic=topic,
        key=incoming.key,
        value=incoming.value,
        headers=(
            ("x-error", one_line.encode()),
            ("x-consumer", consumer.encode()),
            ("x-source-topic", incoming.topic.encode()),
            ("x-source-partition", str(incoming.partition).encode()),
            ("x-source-offset", str(incoming.offset).encode()),
        ),
    )
