"""The whole system as a clinic runs it: three service processes, a webhook and a mail peer.

The services are started the README's way (`python -m services.cli run <service>`), each a
separate OS process configured only through environment variables, on topics of their own
for this run. What they publish is read by one tap from the beginning of each output topic
(no consumer group), so a story looks at everything published for its patient.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.codec import to_bytes
from schemas.envelope import Envelope
from schemas.staff import StaffEventUnion
from services import SERVICES
from services.runtime.launcher import ServiceProcess, free_port, terminate_all
from services.runtime.topics import RunTopics, ensure_topics
from services.stack.postgres import PostgresStack
from tests.e2e.clinic import ZONE
from tests.integration.kafka_io import eventually, uncommitted
from tests.integration.peers.smtp import SmtpServer
from tests.integration.peers.webhook import SECRET, WebhookReceiver

PARTITIONS = 3
T = TypeVar("T")
Event = dict[str, Any]

# Plan changes and capacity shortages go to the front desk's webhook; what a physician acts
# on goes by e-mail; each rostered therapist hears of their own days on the webhook.
FRONT_DESK_KINDS = ["course_scheduled", "course_pending", "course_suspended", "course_resumed",
                    "sessions_rescheduled", "course_cancelled", "capacity_shortage"]  # fmt: skip
THERAPISTS = {"T1": "therapist-1", "T2": "therapist-2"}  # therapist id → recipient
PHYSICIAN_KINDS = ["course_completed", "next_course_due", "rehab_course_eligible",
                   "surgical_evaluation_advised", "repeated_pain_review"]  # fmt: skip
PHYSICIAN = "physician@north.example"


def routing_file(folder: Path, webhook: WebhookReceiver, smtp: SmtpServer) -> Path:
    path = folder / "routing.json"
    routing = {
        "clinic": "north",
        # The peers speak plain HTTP and SMTP on 127.0.0.1: allowed only by these explicit flags.
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "courseflow@north.example",
            "tls": "none",
        },
        "recipients": {
            "front-desk": {
                "channel": "webhook",
                "url": webhook.url,
                "secret": SECRET,
                "allow_insecure_local": True,
            },
            "physician": {"channel": "email", "address": PHYSICIAN},
            **{name: {"channel": "webhook", "url": webhook.url, "secret": SECRET,
                      "allow_insecure_local": True} for name in THERAPISTS.values()},
        },
        "routes": [
            {"kinds": FRONT_DESK_KINDS, "recipients": ["front-desk"]},
            {"kinds": PHYSICIAN_KINDS, "recipients": ["physician"]},
        ],
        "therapists": THERAPISTS,
    }  # fmt: skip
    path.write_text(json.dumps(routing, indent=2))
    return path


def service_env(topics: RunTopics, bootstrap: str, routing: Path) -> dict[str, str]:
    """Everything the services are told (they inherit none of this shell's settings)."""
    postgres = PostgresStack.from_env()
    shared = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DATABASE_URL": postgres.url,
        "TOPIC_PARTITIONS": str(PARTITIONS),
        "CLINIC_TIMEZONE": ZONE, "LOG_FORMAT": "json", "OUTBOX_POLL_INTERVAL_S": "0.2",
        "ELIGIBILITY_TIMER_INTERVAL_S": "0.5",
        "NOTIFIER_ROUTING_FILE": str(routing), "NOTIFIER_DELIVERY_FIRST_RETRY_S": "0.2",
        "NOTIFIER_DELIVERY_MAX_RETRY_S": "1", "NOTIFIER_DELIVERY_POLL_INTERVAL_S": "0.1",
    }  # fmt: skip
    for service in SERVICES:
        shared[f"{service.upper()}_DATABASE_URL"] = postgres.service_url(service)
    return {**topics.env(), **{f"COURSEFLOW_{k}": v for k, v in shared.items()}}


@dataclass
class Tap:
    """Every record of the published topics, in order per partition, kept in memory."""

    bootstrap: str
    topics: list[str]
    records: dict[str, list[Any]] = field(default_factory=dict)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.records = {topic: [] for topic in self.topics}
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        partitions = [TopicPartition(t, p) for t in self.topics for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            for partition, records in batch.items():
                self.records[partition.topic].extend(records)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    def of(self, topic: str, patient: str) -> list[Any]:
        return [r for r in self.records[topic] if r.key == patient.encode()]


@dataclass
class System:
    bootstrap: str
    topics: RunTopics
    services: dict[str, ServiceProcess]
    tap: Tap
    webhook: WebhookReceiver
    smtp: SmtpServer
    producer: AIOKafkaProducer

    # -- the clinic's side ------------------------------------------------------------------
    async def send(self, *events: Envelope) -> None:
        """In order, each acknowledged by the broker before the next is sent."""
        for event in events:
            key = event.subject.encode()
            await self.producer.send_and_wait(self.topics.patient_events, to_bytes(event), key=key)

    async def staff(self, *events: StaffEventUnion) -> None:
        """Staff events, keyed by their clinic, each acknowledged before the next."""
        for event in events:
            key = event.data.clinic_id.encode()
            await self.producer.send_and_wait(self.topics.staff_events, to_bytes(event), key=key)

    # -- what the system published ----------------------------------------------------------
    def decisions(self, patient: str) -> list[Event]:
        return [json.loads(r.value) for r in self.tap.of(self.topics.eligibility, patient)]

    def schedule(self, patient: str) -> list[Event]:
        return [json.loads(r.value) for r in self.tap.of(self.topics.schedule, patient)]

    def notices(self, patient: str) -> list[Event]:
        return [json.loads(r.value) for r in self.tap.of(self.topics.notices, patient)]

    def dead_letters(self, patient: str) -> list[Any]:
        return self.tap.of(self.topics.dead_letters, patient)

    def webhook_bodies(self, patient: str) -> list[Event]:
        return [b for b in self.webhook.bodies() if b["patient_id"] == patient]

    def mails(self, patient: str) -> list[Message]:
        return [m for m in self.smtp.messages if str(m["Subject"]).endswith(f": {patient}")]

    async def until(self, check: Callable[[], T | None], timeout_s: float = 30) -> T:
        """Poll `check` until it gives something truthy (the deadline fails the story)."""
        result: T = await eventually(check, timeout_s=timeout_s)
        return result

    async def schedule_events(self, patient: str, count: int) -> list[Event]:
        """The patient's schedule events, once there are at least `count`."""
        return await self.until(lambda: at_least(self.schedule(patient), count))

    async def decision_events(self, patient: str, count: int) -> list[Event]:
        """The patient's eligibility decisions, once there are at least `count`."""
        return await self.until(lambda: at_least(self.decisions(patient), count))

    async def consumed(self) -> None:
        """Every service has consumed (and committed after its database commit) every record
        on its input topics so far: a sync point for steps whose effect publishes nothing."""

        async def all_consumed() -> bool:
            for group in SERVICES:
                if not await consumed_to_end(self.bootstrap, group, self.topics.inputs(group)):
                    return False
            return True

        await eventually(all_consumed, timeout_s=30)

    # -- time passing -----------------------------------------------------------------------
    async def restart(self, service: str, *, clock_offset_days: int) -> None:
        process = self.services[service]
        await process.stop()
        process.start({f"COURSEFLOW_{service.upper()}_CLOCK_OFFSET_DAYS": str(clock_offset_days)})
        await process.ready()


def at_least(events: list[Event], count: int) -> list[Event] | None:
    return events if len(events) >= count else None


async def consumed_to_end(bootstrap: str, group: str, topics: Sequence[str]) -> bool:
    return not await uncommitted(bootstrap, group, topics, partitions=PARTITIONS)


@contextlib.asynccontextmanager
async def running_system(bootstrap: str, suffix: str, folder: Path) -> AsyncIterator[System]:
    topics = RunTopics.under(f"e2e.{suffix}")
    await ensure_topics(bootstrap, topics.every, partitions=PARTITIONS)
    webhook = await WebhookReceiver().start()
    smtp = SmtpServer().start()
    tap = Tap(bootstrap, topics.published)
    await tap.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    env = service_env(topics, bootstrap, routing_file(folder, webhook, smtp))
    services = {
        name: ServiceProcess(name, env, folder / f"{name}.log", free_port(), inherit_settings=False)
        for name in SERVICES
    }
    try:
        for process in services.values():
            process.start()
        await asyncio.gather(*(process.ready() for process in services.values()))
        yield System(bootstrap, topics, services, tap, webhook, smtp, producer)
    finally:
        await asyncio.to_thread(terminate_all, list(services.values()))
        await producer.stop()
        await tap.stop()
        smtp.stop()
        await webhook.stop()
