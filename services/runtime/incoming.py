"""One consumed Kafka record, as the runtime sees it (independent of the client library)."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Incoming:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    @classmethod
    def from_record(cls, record: Any) -> "Incoming":
        value = record.value if record.value is not None else b""
        return cls(record.topic, record.partition, record.offset, record.key, value)

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"
