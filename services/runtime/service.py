"""The composition root shared by every service: broker, pool, migrations, topics, relay.

Nothing connects at import time: `start()` builds the connections, `stop()` closes them, and
the FastStream app made by `app()` calls both from its lifespan hooks.
"""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream import AckPolicy, FastStream
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage

from services.runtime import failpoints
from services.runtime.db import create_pool, migrate
from services.runtime.decider import C, Context, Decider, Ev, O, Rejected, Repository, S
from services.runtime.incoming import Incoming
from services.runtime.kafka_security import broker_security, client_options
from services.runtime.locks import LockNamespace
from services.runtime.metrics import Metrics
from services.runtime.pipeline import Pipeline, subject_of
from services.runtime.relay import OutboxRelay
from services.runtime.settings import ServiceSettings
from services.runtime.topics import ensure_topics

if TYPE_CHECKING:
    from faststream.asgi.types import ASGIApp, Receive, Scope, Send


# The relay's producer batches: a drain of schedule events (about 5 KB each) goes out in a
# request or two, where aiokafka's default of 16 KiB took one round trip per three events
# and partition (docs/performance.md). Well below the broker's default 1 MiB per batch; a
# topic that takes less refuses a batch whole, and the relay then sends its rows one by one.
OUTBOX_BATCH_BYTES = 512 * 1024


async def _skip_decoding(_msg: Any) -> None:
    """The pipeline parses the raw bytes itself, so FastStream never rejects a message."""


ServiceApp = FastStream | AsgiFastStream


class _ServiceAsgi(AsgiFastStream):
    """FastStream's ASGI application, whose routes match whole paths, plus routes that serve
    every path below a prefix (a path ending in "/")."""

    def __init__(
        self, broker: KafkaBroker, below: Sequence[tuple[str, "ASGIApp"]], **options: Any
    ) -> None:
        super().__init__(broker, **options)
        self._below = list(below)

    async def __call__(self, scope: "Scope", receive: "Receive", send: "Send") -> None:
        if scope["type"] == "http":
            for prefix, app in self._below:
                if scope["path"].startswith(prefix):
                    await app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


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
    metrics: Metrics = field(init=False)
    _pool: asyncpg.Pool | None = None
    _relay: OutboxRelay | None = None
    _background_factories: list[Callable[[asyncpg.Pool], Background]] = field(default_factory=list)
    _background: list[Background] = field(default_factory=list)
    _routes: list[tuple[str, "ASGIApp"]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.name)
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap_list, client_id=self.name, logger=self.log,
            security=broker_security(self.settings),
        )  # fmt: skip

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
        """The relay's current producer (it replaces a dead one)."""
        return self.relay.producer

    @property
    def relay(self) -> OutboxRelay:
        if self._relay is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._relay

    def consume(  # noqa: PLR0913 - each argument is one independent choice of a service
        self,
        decoders: Mapping[str, Callable[[bytes], Ev | Rejected]],
        decider: Decider[Ev, C, S, O],
        repository: Repository[C, S, O],
        context: Callable[[], Context],
        *,
        after_commit: Callable[[], None] | None = None,
        key_of: Callable[[Ev], str] = subject_of,
        key_name: str = "subject",
        lock_namespace: LockNamespace = LockNamespace.PATIENT,
        quiet: bool = False,
    ) -> Pipeline[Ev, C, S, O]:
        """Handle the topics of `decoders` (each with its decoder) with one consumer of the
        group named after the service: each batch, whichever topics its records come from,
        folded by `decider` in one transaction with the inbox, dead letters and outbox of
        the service's schema. Topics folded by the same Decider share one consumer, so their
        batches never take turns on the same locks and an idle service polls once.
        `after_commit` runs once a batch that handled events has committed (a wake-up). A
        record whose key is not `key_of(event)` is dead-lettered; the batch locks those keys
        in `lock_namespace` (a staff topic: `clinic_id` in the clinic namespace). `quiet`:
        topics that carry few records (staff changes) wait `CONSUMER_QUIET_BATCH_TIMEOUT_MS`
        between empty fetches, so their idle consumer wakes far less often. The pipeline is
        returned so that timers can fire through it."""
        pipeline = Pipeline(
            consumer=self.name, schema=self.schema, decoders=dict(decoders), decider=decider,
            repository=repository, context=context,
            dead_letter_topic=self.settings.topic_dead_letters, log=self.log,
            key_of=key_of, key_name=key_name,
            lock_namespace=lock_namespace, lock_timeout_ms=self.settings.db_lock_timeout_ms,
        )  # fmt: skip
        topics = ",".join(decoders)

        @self.broker.subscriber(
            *decoders,
            group_id=self.name,
            batch=True,
            max_records=self.settings.consumer_max_records,
            fetch_min_bytes=self.settings.consumer_fetch_min_bytes,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            batch_timeout_ms=self.settings.consumer_quiet_batch_timeout_ms
            if quiet
            else self.settings.consumer_batch_timeout_ms,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=self.settings.consumer_heartbeat_interval_ms,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_skip_decoding,
        )
        async def handle(msg: KafkaMessage, consumer: Consumer) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            started = time.perf_counter()
            result = await pipeline.handle(self.pool, [Incoming.from_record(r) for r in records])
            failpoints.hit("after_db_commit")
            if after_commit is not None and result.handled:
                after_commit()
            self.metrics.batch_done(topics, result, time.perf_counter() - started)
            self._record_lag(consumer, records)
            if pause_s := self.settings.gather_pause_s(len(records)):
                await asyncio.sleep(pause_s)
            if result.dead_letters or result.duplicates:
                self.log.info(
                    "batch done", batch_size=len(records), duplicates=result.duplicates,
                    dead_letters=result.dead_letters, topic=topics,
                )  # fmt: skip

        return pipeline

    def _record_lag(self, consumer: AIOKafkaConsumer, records: Sequence[Any]) -> None:
        last: dict[TopicPartition, int] = {}
        for record in records:
            last[TopicPartition(record.topic, record.partition)] = record.offset
        for partition, offset in last.items():
            highwater = consumer.highwater(partition)
            if highwater is not None:
                self.metrics.consumer_lag.labels(
                    self.name, partition.topic, str(partition.partition)
                ).set(max(highwater - offset - 1, 0))

    async def healthy(self) -> bool:
        """Ready only while the service can consume and publish: its subscribers run, its
        relay can publish, and both the broker and the database answer."""
        if self._pool is None or self._relay is None:
            return False
        if not self._relay.healthy() or not self._consuming():
            return False
        try:
            async with self._pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
            return bool(await self.broker.ping(timeout=2))
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False

    def _consuming(self) -> bool:
        """Every subscriber runs and has a live consume loop (no I/O: cheap)."""
        return all(
            subscriber.running and any(not task.done() for task in getattr(subscriber, "tasks", ()))
            for subscriber in self.broker.subscribers
        )

    def run_in_background(self, factory: Callable[[asyncpg.Pool], Background]) -> None:
        """Start `factory(pool)` once the database is ready; stop it before the pool closes."""
        self._background_factories.append(factory)

    def serve(self, path: str, app: "ASGIApp") -> None:
        """Serve `app` beside /health and /metrics when the service has an HTTP port: at
        `path`, or at every path below it when `path` ends in "/"."""
        self._routes.append((path, app))

    def topics(self) -> list[str]:
        s = self.settings
        return [s.topic_patient_events, s.topic_eligibility, s.topic_schedule,
                s.topic_notices, s.topic_dead_letters, s.topic_staff_events,
                s.topic_planner_commands]  # fmt: skip

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
        self._pool = await create_pool(
            s.database_url, self.schema, max_size=s.db_pool_max_size,
            command_timeout=s.db_command_timeout_s,
        )  # fmt: skip
        async with self._pool.acquire() as conn:
            for name in await migrate(conn, self.schema, self.migrations):
                self.log.info("migration applied", migration=name, schema=self.schema)
        await ensure_topics(
            s.kafka_bootstrap_servers, self.topics(), partitions=s.topic_partitions,
            replication=s.topic_replication_factor,
            min_insync_replicas=s.topic_min_insync_replicas, options=client_options(s),
        )  # fmt: skip
        self._relay = OutboxRelay(
            self._pool, self._outbox_producer, self.schema, batch_size=s.outbox_batch_size,
            poll_interval_s=s.outbox_poll_interval_s, log=self.log, metrics=self.metrics,
            unhealthy_after_s=s.outbox_unhealthy_after_s,
            metrics_interval_s=s.outbox_metrics_interval_s,
            park_missing_topic_after_s=s.outbox_park_missing_topic_after_s,
        )  # fmt: skip
        await self._relay.open()
        self._relay.start()
        self._background = [factory(self._pool) for factory in self._background_factories]
        for task in self._background:
            task.start()

    def _outbox_producer(self) -> AIOKafkaProducer:
        """The relay's producer; called again whenever the relay replaces a dead one."""
        s = self.settings
        return AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            client_id=f"{self.name}-outbox",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=OUTBOX_BATCH_BYTES,
            **client_options(s),
        )

    async def announce(self) -> None:
        """One line that says the service consumes now (the demo and operators wait for it)."""
        self.log.info("started", topic=",".join(self.topics()))

    async def release(self) -> None:
        for task in self._background:
            await task.stop()
        self._background = []
        if self._relay is not None:
            await self._relay.close()
        if self._pool is not None:
            await self._pool.close()
        self._relay = self._pool = None

    def app(self) -> "ServiceApp":
        """The FastStream application (it starts the broker between our hooks); with an HTTP
        port, an ASGI one that also serves /health, Prometheus /metrics and what the service
        added with `serve`."""
        hooks: dict[str, Any] = {
            "logger": self.log, "on_startup": [self.prepare],
            "after_startup": [self.announce], "after_shutdown": [self.release],
        }  # fmt: skip
        if not self.settings.http_port:
            return FastStream(self.broker, **hooks)
        metrics: ASGIApp = self.metrics.scrape_app(self.healthy)
        routes: list[tuple[str, ASGIApp]] = [
            ("/health", self.health_route()),
            ("/metrics", metrics),
            *((path, app) for path, app in self._routes if not path.endswith("/")),
        ]
        below = [(path, app) for path, app in self._routes if path.endswith("/")]
        return _ServiceAsgi(self.broker, below, asgi_routes=routes, **hooks)

    def health_route(self) -> "ASGIApp":
        """/health: 200 while the service can consume and publish, else 503."""

        @get
        async def health(_scope: Any) -> AsgiResponse:
            ok = await self.healthy()
            body = b'{"status":"ok"}' if ok else b'{"status":"unavailable"}'
            return AsgiResponse(body, 200 if ok else 503, {"content-type": "application/json"})

        return health
