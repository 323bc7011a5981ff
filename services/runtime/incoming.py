"""One consumed Kafka record, as the runtime sees it (independent of the client library),
and the checks its key and inbox key pass before any SQL sees them."""

from dataclasses import dataclass
from typing import Any

# The inbox's primary key (consumer, source, event id) is a btree entry, which PostgreSQL
# caps near 2700 bytes: two fields of at most 1024 bytes and a schema name stay below it.
MAX_INBOX_FIELD_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Incoming:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def from_record(cls, record: Any) -> "Incoming":
        value = record.value if record.value is not None else b""
        headers = tuple((name, raw or b"") for name, raw in record.headers or ())
        return cls(record.topic, record.partition, record.offset, record.key, value, headers)

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"


def input_problem(
    record_key: bytes | None, expected_key: str, *, source: str, event_id: str, key_name: str
) -> str | None:
    """Why a decoded record cannot be handled, in one line without input values, or None.

    The key decides the partition, hence the order of a patient's events, so it must be the
    event's own key (CONTRACT.md); it also names the record's lock, so it must be SQL text.
    """
    return _key_problem(record_key, expected_key, key_name) or (
        _inbox_field_problem("source", source) or _inbox_field_problem("id", event_id)
    )


def _key_problem(record_key: bytes | None, expected_key: str, key_name: str) -> str | None:
    if record_key is None:
        return "the record has no key"
    try:
        key = record_key.decode("utf-8")
    except UnicodeDecodeError:
        return "the record key is not UTF-8"
    if "\x00" in key:
        return "the record key contains a NUL character"
    if key != expected_key:
        return f"the record key is not the event's {key_name}"
    return None


def _inbox_field_problem(name: str, value: str) -> str | None:
    if not value:
        return f"the event {name} is empty"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return f"the event {name} is not valid Unicode"
    if "\x00" in value:
        return f"the event {name} contains a NUL character"
    if size > MAX_INBOX_FIELD_BYTES:
        return f"the event {name} is longer than {MAX_INBOX_FIELD_BYTES} bytes"
    return None
