"""Dead letters: the original key, bytes and headers, with the reason in `x-*` headers.

A dead letter must always be publishable, or it would stop the service's output behind it:
an original too large to publish again (near the broker's 1 MiB message limit) is cut to
its first 64 KiB (CONTRACT.md), and original headers the outbox cannot store or that would
make the record large are left out. Anything smaller keeps its bytes unchanged.
"""

import hashlib

from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage

# Half the broker's default limit: room for our headers and for a broker set lower.
CUT_ORIGINALS_ABOVE_BYTES = 512 * 1024
CUT_VALUE_TO_BYTES = 64 * 1024
CUT_KEY_TO_BYTES = 1024
MAX_ORIGINAL_HEADER_BYTES = 16 * 1024


def dead_letter(incoming: Incoming, *, reason: str, consumer: str, topic: str) -> OutboxMessage:
    one_line = " ".join(reason.split())[:500]
    ours = [
        ("x-error", one_line.encode()),
        ("x-consumer", consumer.encode()),
        ("x-source-topic", incoming.topic.encode()),
        ("x-source-partition", str(incoming.partition).encode()),
        ("x-source-offset", str(incoming.offset).encode()),
    ]
    key, value = incoming.key, incoming.value
    if len(key or b"") + len(value) > CUT_ORIGINALS_ABOVE_BYTES:
        value = value[:CUT_VALUE_TO_BYTES]
        ours += [("x-truncated", b"true"), ("x-original-size", str(len(incoming.value)).encode())]
        if key is not None and len(key) > CUT_KEY_TO_BYTES:  # no patient id is that long
            key = key[:CUT_KEY_TO_BYTES]
            ours.append(("x-original-key-size", str(len(incoming.key or b"")).encode()))
    kept = _original_headers(incoming.headers, taken={name for name, _ in ours})
    return OutboxMessage(topic=topic, key=key, value=value, headers=(*kept, *ours))


def dead_letter_id(incoming: Incoming) -> str:
    """The inbox id that lets a record be dead-lettered once: its offset and a digest of its
    key and value, because a topic deleted and recreated reuses offsets for new records."""
    digest = hashlib.sha256()
    for part in (incoming.key, incoming.value):
        digest.update(b"-" if part is None else len(part).to_bytes(8, "big") + part)
    return f"{incoming.offset}:{digest.hexdigest()[:32]}"


def _original_headers(
    headers: tuple[tuple[str, bytes], ...], *, taken: set[str]
) -> list[tuple[str, bytes]]:
    kept: list[tuple[str, bytes]] = []
    budget = MAX_ORIGINAL_HEADER_BYTES
    for name, value in headers:
        size = len(name.encode("utf-8", "replace")) + len(value)
        if name in taken or size > budget or not _storable(name, value):
            continue
        kept.append((name, value))
        budget -= size
    return kept


def _storable(name: str, value: bytes) -> bool:
    """The outbox keeps headers as JSON text: UTF-8 without NUL, which jsonb refuses."""
    try:
        text = value.decode("utf-8")
        name.encode("utf-8")
    except UnicodeError:
        return False
    return "\x00" not in name and "\x00" not in text
