"""One run of the pipeline: topics and a database of its own, the three services as processes.

The services are started the README's way (`python -m services.cli run <service>`) and are
configured only by environment variables; a run may start several replicas of each (one
consumer group per service, so partitions move between them). The notifier delivers to a
webhook receiver and an SMTP server of the run's own. Everything the run needs to judge the
outcome is read back from Kafka (the published topics) and the peers once it is quiescent,
and, for the rostered clinics, from the planner's `bookings` table, which must agree with
what was published.
"""

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families

from services import SERVICES
from services.runtime.launcher import ServiceProcess, free_port
from services.runtime.topics import RunTopics, ensure_topics
from tests.e2e.system import routing_file
from tests.faults.infra import Infra
from tests.faults.workload import Message
from tests.integration.kafka_io import uncommitted
from tests.integration.peers.smtp import SmtpServer
from tests.integration.peers.webhook import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 3
POLL_S = 0.5
QUIET_S = 3.0


def partitions_of(topics: Sequence[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]


def counters_in(metrics_text: str) -> Counter[str]:
    """From one /metrics page: inbox duplicates skipped, outbox rows published."""
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "courseflow_messages_total" and sample.labels.get("outcome") == (
                "duplicate"
            ):
                found["duplicates"] += int(sample.value)
            elif sample.name == "courseflow_outbox_published_total":
                found["published"] += int(sample.value)
    return found


@dataclass
class Replica:
    """One replica of a service: a `ServiceProcess` whose output goes to a log file quoted
    when it fails. Every replica joins the service's consumer group and has its own HTTP
    port, a fresh one each life: a port left free by a killed life may be some client's by
    now."""

    name: str
    replica: int
    env: dict[str, str]
    log_path: Path
    process: ServiceProcess = field(init=False)
    # from /metrics of lives that ended (scraped just before)
    counted_before: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.process = ServiceProcess(self.name, self.env, self.log_path, inherit_settings=False)

    @property
    def label(self) -> str:
        return f"{self.name}#{self.replica}"

    @property
    def started(self) -> bool:
        """Started and not stopped since (a killed life counts until the next start)."""
        return self.process.process is not None

    async def start(self) -> None:
        self.process.port = free_port()
        self.process.start()
        await self.ready()

    async def ready(self) -> None:
        await self.process.ready(timeout_s=90)

    def check_alive(self) -> None:
        self.process.check_alive()

    async def counters(self) -> Counter[str]:
        """Counted so far by this life of the process (nothing if it does not answer)."""
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=2) as client:
                page = await client.get(f"{self.process.url}/metrics")
                return counters_in(page.text)
        return Counter()

    async def counted(self) -> Counter[str]:
        """Over every life of this replica (a lower bound: a killed life's last moments)."""
        return self.counted_before + await self.counters()

    async def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing is flushed or committed."""
        self.counted_before += await self.counters()
        self.process.kill()

    def pause(self) -> None:
        self.process.pause()

    def resume(self) -> None:
        self.process.resume()

    async def stop(self) -> None:
        if self.process.paused and self.process.alive:
            self.resume()  # to be scraped, and to see the SIGTERM
        if self.process.alive:
            self.counted_before += await self.counters()
        await self.process.stop()

    def log_tail(self) -> str:
        return self.process.log_tail(lines=40)


class NotQuiescent(AssertionError):  # noqa: N818 - a verdict on the run
    """Some group never reached the end of an input, or work stayed pending in a database."""

    def __init__(self, stuck: list[str], message: str) -> None:
        super().__init__(f"{message}: {stuck}")
        self.stuck = stuck  # what was still stuck at the deadline, one item each


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    partition: int
    offset: int


@dataclass(frozen=True, slots=True, order=True)
class Booked:
    """One row of the planner's `bookings` table."""

    clinic_id: str
    patient_id: str
    session_id: str
    therapist_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PeerLog:
    """What the run's webhook receiver and SMTP server saw, by idempotency key."""

    webhook_requests: list[str]  # the key of every request, re-sends included
    webhook_accepted: set[str]  # the keys answered 200
    webhook_bad_signatures: int
    mail_keys: list[str]  # the notice id in each mail's Message-ID, re-sends included


def mail_key(message_id: str) -> str:
    """`<notice id@courseflow>` → the notice id."""
    return message_id.strip().removeprefix("<").split("@", 1)[0]


@dataclass
class Run:
    infra: Infra
    suffix: str
    folder: Path
    replicas: int = 1
    topics: RunTopics = field(init=False)
    services: dict[str, list[Replica]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    send_retries: int = 0
    webhook: WebhookReceiver = field(default_factory=WebhookReceiver)
    smtp: SmtpServer = field(default_factory=SmtpServer)
    _producer: AIOKafkaProducer | None = None

    def __post_init__(self) -> None:
        self.topics = RunTopics.under(f"faults.{self.suffix}")

    @property
    def processes(self) -> list[Replica]:
        return [p for replicas in self.services.values() for p in replicas]

    @property
    def database(self) -> str:
        return f"faults_{self.suffix}"

    def env(self) -> dict[str, str]:
        env = {
            **self.topics.env(),
            "COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap,
            "COURSEFLOW_TOPIC_PARTITIONS": str(PARTITIONS),
            "COURSEFLOW_OUTBOX_POLL_INTERVAL_S": "0.2", "COURSEFLOW_LOG_FORMAT": "json",
            # The broker's smallest allowed session: a paused replica is dropped sooner.
            "COURSEFLOW_CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "COURSEFLOW_CONSUMER_HEARTBEAT_INTERVAL_MS": "2000",
            "COURSEFLOW_ELIGIBILITY_TIMER_INTERVAL_S": "0.5",
            "COURSEFLOW_PLANNER_TIMER_INTERVAL_S": "0.5",
            "COURSEFLOW_NOTIFIER_DELIVERY_POLL_INTERVAL_S": "0.1",
            "COURSEFLOW_NOTIFIER_DELIVERY_FIRST_RETRY_S": "0.2",
            "COURSEFLOW_NOTIFIER_DELIVERY_MAX_RETRY_S": "1",
        }  # fmt: skip
        for service in SERVICES:
            prefix = f"COURSEFLOW_{service.upper()}"
            env[f"{prefix}_DATABASE_URL"] = self.infra.service_url(service, self.database)
        return env

    async def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        await ensure_topics(self.infra.bootstrap, self.topics.every, partitions=PARTITIONS)
        await self.infra.create_database(self.database)
        await self.webhook.start()
        self.smtp.start()
        env = self.env()
        # the e2e harness's routing: plan changes to the webhook, the rest by e-mail
        env["COURSEFLOW_NOTIFIER_ROUTING_FILE"] = str(
            routing_file(self.folder, self.webhook, self.smtp)
        )
        for name in SERVICES:
            self.services[name] = [
                Replica(name, n, env, self.folder / f"{name}-{n}.log")
                for n in range(1, self.replicas + 1)
            ]
        await asyncio.gather(*(p.start() for p in self.processes))
        self._producer = await self._new_producer()

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.infra.bootstrap, acks="all", enable_idempotence=True,
            request_timeout_ms=10_000, max_request_size=1_048_576,
        )  # fmt: skip
        await producer.start()
        return producer

    async def close(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.processes))
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                await self._producer.stop()
            self._producer = None
        self.smtp.stop()
        await self.webhook.stop()

    def peers(self) -> PeerLog:
        return PeerLog(
            webhook_requests=list(self.webhook.requests),
            webhook_accepted=set(self.webhook.accepted),
            webhook_bad_signatures=self.webhook.bad_signatures,
            mail_keys=[mail_key(str(m["Message-ID"])) for m in self.smtp.messages],
        )

    # -- the clinic's side ------------------------------------------------------------------
    def topic_of(self, message: Message) -> str:
        return self.topics.staff_events if message.staff else self.topics.patient_events

    async def send(self, message: Message, *, timeout_s: float = 120) -> Sent:
        """Acknowledged by the broker (retried while it is away); its position is kept."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self._producer is None:
                    self._producer = await self._new_producer()
                meta = await self._producer.send_and_wait(
                    self.topic_of(message), message.value, key=message.key
                )
                break
            except KafkaError:
                # e.g. OutOfOrderSequenceNumber after a broker restart: a new producer
                if time.monotonic() > deadline:
                    raise
                self.send_retries += 1
                producer, self._producer = self._producer, None
                if producer is not None:
                    with contextlib.suppress(KafkaError):
                        await producer.stop()
                await asyncio.sleep(0.5)
        sent = Sent(message, meta.partition, meta.offset)
        self.sent.append(sent)
        return sent

    async def feed(self, messages: Sequence[Message], *, seconds: float) -> None:
        """Spread evenly over `seconds`, so that faults land while events stream."""
        gap = seconds / max(len(messages), 1)
        started = time.monotonic()
        for n, message in enumerate(messages):
            await self.send(message)
            ahead = started + n * gap - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)  # pacing, not synchronisation

    async def rostered(self, messages: Sequence[Message], timeout_s: float = 120) -> None:
        """Send the clinics' rosters and poll until the planner has consumed them."""
        for message in messages:
            await self.send(message)
        deadline = time.monotonic() + timeout_s
        staff = [self.topics.staff_events]
        while behind := await uncommitted(self.infra.bootstrap, "planner", staff,
                                          partitions=PARTITIONS):  # fmt: skip
            if time.monotonic() > deadline:
                raise AssertionError(f"rosters not consumed in {timeout_s}s: {behind}")
            await asyncio.sleep(POLL_S)

    # -- waiting for the end ----------------------------------------------------------------
    async def lagging(self) -> list[str]:
        """Every partition some consumer group has not committed to its end."""
        behind = []
        for service in SERVICES:
            inputs = self.topics.inputs(service)
            lag = await uncommitted(self.infra.bootstrap, service, inputs, partitions=PARTITIONS)
            behind += [f"{service} {where}" for where in lag]
        return behind

    async def end_offsets(self) -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.infra.bootstrap)
        await consumer.start()
        try:
            return dict(await consumer.end_offsets(partitions_of(self.topics.every)))
        finally:
            await consumer.stop()

    async def pending_work(self) -> dict[str, int]:
        conn = await asyncpg.connect(self.infra.admin_url(self.database), timeout=5)
        try:
            today = datetime.now(UTC).date()
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM eligibility.outbox WHERE sent_at IS NULL) AS e,"
                " (SELECT count(*) FROM planner.outbox WHERE sent_at IS NULL) AS p,"
                " (SELECT count(*) FROM notifier.outbox WHERE sent_at IS NULL) AS n,"
                " (SELECT count(*) FROM notifier.deliveries WHERE status = 'pending') AS d,"
                " (SELECT count(*) FROM eligibility.timers WHERE due_on <= $1) AS t",
                today,
            )
        finally:
            await conn.close()
        assert row is not None
        names = {"e": "eligibility outbox", "p": "planner outbox", "n": "notifier outbox",
                 "d": "notifier deliveries", "t": "eligibility timers due"}  # fmt: skip
        return {names[k]: int(v) for k, v in row.items() if v}

    async def quiesce(self, timeout_s: float) -> float:
        """Poll until every group consumed its inputs to the end, nothing is pending in any
        database, and no topic grew for QUIET_S; fail at the deadline with what is stuck."""
        started = time.monotonic()
        deadline = started + timeout_s
        quiet_since: float | None = None
        last: dict[TopicPartition, int] | None = None
        why = ["not polled yet"]
        while True:
            for process in self.processes:
                process.check_alive()
            try:
                behind, pending, ends = await self.lagging(), await self.pending_work(), None
                if not behind and not pending:
                    ends = await self.end_offsets()
                why = [*behind, *(f"{what}: {n}" for what, n in pending.items())] or [
                    "topics still growing"
                ]
            except (KafkaError, OSError, asyncpg.PostgresError) as exc:
                behind, pending, ends, why = ["?"], {}, None, [repr(exc)]
            now = time.monotonic()
            if ends is not None and ends == last:
                quiet_since = quiet_since or now
                if now - quiet_since >= QUIET_S:
                    return now - started
            else:
                quiet_since = None
            last = ends
            if now > deadline:
                raise NotQuiescent(why, f"run {self.suffix} not quiescent in {timeout_s}s")
            await asyncio.sleep(POLL_S)

    async def bookings(self) -> list[Booked]:
        """Every booking the planner holds at the end (R-NO-OVERLAP's table)."""
        conn = await asyncpg.connect(self.infra.admin_url(self.database), timeout=5)
        try:
            rows = await conn.fetch(
                "SELECT clinic_id, patient_id, session_id, therapist_id, starts_at, ends_at"
                " FROM planner.bookings"
            )
        finally:
            await conn.close()
        return sorted(Booked(**dict(row)) for row in rows)

    async def scraped(self) -> dict[str, Counter[str]]:
        """Per replica, over its lives."""
        return {p.label: await p.counted() for p in self.processes}

    async def read_published(self) -> dict[str, list[Any]]:
        """Every record of every topic of the run, in partition order."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.infra.bootstrap,
                                    enable_auto_commit=False)  # fmt: skip
        await consumer.start()
        try:
            partitions = partitions_of(self.topics.every)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records: dict[str, list[Any]] = {t: [] for t in self.topics.every}
            deadline = time.monotonic() + 60
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, got in batch.items():
                    records[tp.topic] += [r for r in got if r.offset < ends[tp]]
                assert time.monotonic() < deadline, "could not read the published topics"
            return records
        finally:
            await consumer.stop()


def counted(values: Sequence[str]) -> dict[str, int]:
    return dict(Counter(values).most_common())
