"""Output events are rows written in the same transaction as the state they come from."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.runtime.db import Conn

CLOUDEVENTS_CONTENT_TYPE = b"application/cloudevents+json; charset=UTF-8"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = (("content-type", CLOUDEVENTS_CONTENT_TYPE),)


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def enqueue(conn: Conn, schema: str, messages: Sequence[OutboxMessage]) -> None:
    if not messages:
        return
    await conn.executemany(
        "INSERT INTO outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)",
        [(m.topic, m.key, m.value, _headers_json(m.headers)) for m in messages],
    )
    # Delivered at commit: the relay wakes only for rows it can see.
    await conn.execute("SELECT pg_notify($1, '')", notify_channel(schema))


def _headers_json(headers: Iterable[tuple[str, bytes]]) -> str:
    return json.dumps([[name, value.decode("utf-8", "replace")] for name, value in headers])


def headers_from_json(raw: str) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in json.loads(raw)]
