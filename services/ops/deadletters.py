"""`courseflow dead-letters list|replay`: inspect dead letters and re-inject them.

A replay sends the original bytes and key back to the topic they came from, with an
`x-replayed-from` header; rejected events leave no inbox row behind, so the services
handle the replayed copy afresh once the cause (e.g. a missing enrolment) is fixed.
"""

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    def describe(self) -> str:
        h = self.headers
        source = (
            f"{h.get('x-source-topic')}/{h.get('x-source-partition')}@{h.get('x-source-offset')}"
        )
        key = self.key.decode(errors="replace") if self.key else "-"
        return (f"{self.position:<8} {h.get('x-consumer', '?'):<12} key={key:<20} from {source}: "
                f"{h.get('x-error', '?')}")  # fmt: skip


async def read_all(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        if topic not in await consumer.topics():
            return []
        deadline = time.monotonic() + timeout_s
        batch = await consumer.getmany(timeout_ms=500)
        while not consumer.assignment() and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        while True:
            for records in batch.values():
                letters += [
                    DeadLetter(r.partition, r.offset, r.key, r.value or b"",
                               {k: v.decode(errors="replace") for k, v in r.headers})
                    for r in records
                ]  # fmt: skip
            behind = [p for p, end in ends.items() if await consumer.position(p) < end]
            if not behind or time.monotonic() >= deadline:
                break
            batch = await consumer.getmany(timeout_ms=500)
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda d: (d.partition, d.offset))


async def replay(bootstrap: str, letters: list[DeadLetter], dead_letters_topic: str) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for letter in letters:
            origin = f"{dead_letters_topic}/{letter.position}".encode()
            await producer.send_and_wait(
                letter.headers["x-source-topic"], letter.value, key=letter.key,
                headers=[("x-replayed-from", origin)],
            )  # fmt: skip
    finally:
        await producer.stop()
    return len(letters)
