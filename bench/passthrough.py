"""The ceiling: a bare aiokafka consume-and-produce pass-through on the same broker.

The same messages as the pipeline's input are loaded into a source topic first (not timed);
then one consumer in its own group reads batches, produces each record to a sink topic with
the services' producer settings (acks=all, idempotent, linger 5 ms), waits for the acks and
commits the offsets: at-least-once, like a service without the database.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from bench.kafka_io import HEADERS, create_topics, delete_topics, producer, send_all
from bench.observe import CpuMeter
from bench.workload import Message


@dataclass(frozen=True, slots=True)
class PassThroughResult:
    messages: int
    seconds: float
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def pass_through(
    bootstrap: str, suffix: str, messages: Sequence[Message], *, partitions: int,
    max_records: int, timeout_s: float, kafka_marker: bytes,
) -> PassThroughResult:  # fmt: skip
    source, sink = f"bench.{suffix}.pt-source", f"bench.{suffix}.pt-sink"
    await create_topics(bootstrap, [source, sink], partitions)
    try:
        loader = producer(bootstrap, "bench-pt-loader")
        await loader.start()
        try:
            await send_all(loader, source, messages, rate=None,
                           deadline=time.perf_counter() + timeout_s)  # fmt: skip
        finally:
            await loader.stop()
        cpu = CpuMeter({}, kafka_marker=kafka_marker)
        cpu.start()
        relayed, seconds = await _relay(
            bootstrap=bootstrap, source=source, sink=sink, expected=len(messages),
            group=f"bench-{suffix}-pt", max_records=max_records, timeout_s=timeout_s,
        )  # fmt: skip
        used, _others, _busy = cpu.stop()
        return PassThroughResult(relayed, seconds, used)
    finally:
        await delete_topics(bootstrap, [source, sink])


async def _relay(
    *,
    bootstrap: str, source: str, sink: str, expected: int, group: str, max_records: int,
    timeout_s: float,
) -> tuple[int, float]:  # fmt: skip
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, max_poll_records=max_records,
    )  # fmt: skip
    out = producer(bootstrap, "bench-pt")
    await consumer.start()
    await out.start()
    try:
        deadline = time.perf_counter() + timeout_s
        done, started = 0, None
        while done < expected:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"pass-through relayed {done} of {expected}")
            batches = await consumer.getmany(timeout_ms=200, max_records=max_records)
            if not batches:
                continue
            started = started or time.perf_counter()
            futures = [
                await out.send(sink, r.value, key=r.key, headers=HEADERS)
                for records in batches.values() for r in records
            ]  # fmt: skip
            await asyncio.gather(*futures)
            await consumer.commit()
            done += len(futures)
        return done, time.perf_counter() - (started or time.perf_counter())
    finally:
        await out.stop()
        await consumer.stop()
