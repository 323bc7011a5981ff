"""The composition root shared by every service: broker, pool, migrations, topics, relay.

Nothing connects at import time: `start()` builds the connections, `stop()` closes them, and
the FastStream app made by `app()` calls both from its lifespan hooks.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.runtime import failpoints
from services.runtime.db import create_pool, migrate
from services.runtime.incoming import Incoming
from services.runtime.pipeline import Pipeline
from services.runtime.relay import OutboxRelay
from services.runtime.settings import ServiceSettings
from services.runtime.topics import ensure_topics


async def _skip_decoding(_msg: Any) -> None:
    """The pipeline parses the raw bytes itself, so FastStream never rejects a message."""


class Background(Protocol):
    """A task that lives as long as the service's connections (timers, reminders)."""

    def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    migrations: Sequence[Path] = ()
    log: Any = field(default_factory=structlog.get_logger)
    broker: KafkaBroker = field(init=False)
    _pool: asyncpg.Pool | None = None
    _producer: AIOKafkaProducer | None = None
    _relay: OutboxRelay | None = None
    _background_factories: list[Callable[[asyncpg.Pool], Background]] = field(default_factory=list)
    _background: list[Background] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap_servers, client_id=self.name, logger=self.log
        )

    @property
    def schema(self) -> str:
        return self.name

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._pool

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._producer

    @property
    def relay(self) -> OutboxRelay:
        if self._relay is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._relay

    def consume(self, topic: str, pipeline: Pipeline[Any]) -> None:
        """Subscribe `pipeline` to `topic` in the consumer group named after the service."""

        @self.broker.subscriber(
            topic,
            group_id=self.name,
            batch=True,
            max_records=self.settings.consumer_max_records,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_skip_decoding,
        )
        async def handle(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            result = await pipeline.handle(self.pool, [Incoming.from_record(r) for r in records])
            failpoints.hit("after_db_commit")
            if result.dead_letters or result.duplicates:
                self.log.info(
                    "batch done", batch_size=len(records), duplicates=result.duplicates,
                    dead_letters=result.dead_letters, topic=topic,
                )  # fmt: skip

    def run_in_background(self, factory: Callable[[asyncpg.Pool], Background]) -> None:
        """Start `factory(pool)` once the database is ready; stop it before the pool closes."""
        self._background_factories.append(factory)

    def topics(self) -> list[str]:
        s = self.settings
        return [s.topic_patient_events, s.topic_eligibility, s.topic_schedule,
                s.topic_notices, s.topic_dead_letters]  # fmt: skip

    async def start(self) -> None:
        """Connect the database and the producer, prepare schema and topics, then consume."""
        await self.prepare()
        await self.broker.start()
        await self.announce()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.release()

    async def prepare(self) -> None:
        s = self.settings
        self._pool = await create_pool(s.database_url, self.schema, max_size=s.db_pool_max_size)
        async with self._pool.acquire() as conn:
            for name in await migrate(conn, self.schema, self.migrations):
                self.log.info("migration applied", migration=name, schema=self.schema)
        await ensure_topics(s.kafka_bootstrap_servers, self.topics(), partitions=s.topic_partitions)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            client_id=f"{self.name}-outbox",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        await self._producer.start()
        self._relay = OutboxRelay(
            self._pool, self._producer, self.schema, batch_size=s.outbox_batch_size,
            poll_interval_s=s.outbox_poll_interval_s, log=self.log,
        )  # fmt: skip
        self._relay.start()
        self._background = [factory(self._pool) for factory in self._background_factories]
        for task in self._background:
            task.start()

    async def announce(self) -> None:
        """One line that says the service consumes now (the demo and operators wait for it)."""
        self.log.info("started", topic=",".join(self.topics()))

    async def release(self) -> None:
        for task in self._background:
            await task.stop()
        self._background = []
        if self._relay is not None:
            await self._relay.stop()
        if self._producer is not None:
            await self._producer.stop()
        if self._pool is not None:
            await self._pool.close()
        self._relay = self._producer = self._pool = None

    def app(self) -> FastStream:
        """The FastStream application: it starts the broker between our two hooks."""
        return FastStream(
            self.broker, logger=self.log, on_startup=[self.prepare],
            after_startup=[self.announce], after_shutdown=[self.release],
        )  # fmt: skip
