"""`courseflow demo` (`make run`): the local stack, the three services as processes, a demo
clinic's roster, demo patients, and a readable feed of what the system publishes, until
Ctrl-C. Once a course has a therapist, that therapist is reported absent, and the feed shows
which sessions moved and to whom (opaque ids, from the schedule events)."""

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.codec import CONTENT_TYPE, to_bytes
from schemas.envelope import Envelope
from services import SERVICES
from services.demo.stories import (
    ABSENCE_DAYS,
    absence_event,
    demo_clinic,
    roster_events,
    story_events,
)
from services.runtime.launcher import ServiceProcess, service_settings
from services.runtime.settings import ServiceSettings
from services.stack import process, stack
from services.stack.kafka import KafkaStack
from services.stack.paths import local_dir
from services.stack.postgres import PostgresStack
from services.stack.prometheus import PrometheusStack

Say = Callable[[str], None]


def run_demo(*, traffic_only: bool, say: Say = print) -> int:
    if traffic_only:
        return _follow(ServiceSettings(), say, forever=False)
    monitoring = PrometheusStack.from_env()
    if not monitoring.installed():
        say("prometheus is not installed (tools/ensure-prometheus.sh): the demo runs without it")
    for line in stack.up(monitoring=monitoring.installed()):
        say(line)
    # The services and the feed talk to the stack just started, wherever its ports are.
    os.environ.setdefault(
        "COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS", KafkaStack.from_env().bootstrap_servers
    )
    os.environ.setdefault("COURSEFLOW_DATABASE_URL", PostgresStack.from_env().url)
    for service in SERVICES:  # each service logs in as its own least-privilege role
        os.environ.setdefault(
            f"COURSEFLOW_{service.upper()}_DATABASE_URL",
            PostgresStack.from_env().service_url(service),
        )
    settings = ServiceSettings()
    try:
        _start_services(say)
        if monitoring.installed():
            say(f"Prometheus: {monitoring.url}/targets (alerts: {monitoring.url}/alerts)")
        return _follow(settings, say, forever=True)
    finally:
        say("stopping…")
        for line in stack.down():
            say(line)


def _start_services(say: Say) -> None:
    """Each service detached and in a pid file, so that `stack down` stops it too."""
    run_dir = local_dir() / "run"
    services = []
    for name in SERVICES:
        pid_file, log_file = run_dir / f"{name}.pid", run_dir / f"{name}.log"
        port = service_settings(name).http_port
        service = ServiceProcess(
            name, log_path=log_file, port=port, detached=True, pid_file=pid_file
        )
        if process.read_pid(pid_file) is None:  # not left running by an earlier demo
            log_file.unlink(missing_ok=True)
            service.start()
        services.append(service)
    asyncio.run(_ready(services))
    for service in services:
        say(f"{service.name} running, log: {service.log_path}")


async def _ready(services: list[ServiceProcess]) -> None:
    await asyncio.gather(*(service.ready(timeout_s=120) for service in services))


def _follow(settings: ServiceSettings, say: Say, *, forever: bool) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_traffic_and_feed(settings, say, forever=forever))
    return 0


FEED_SECONDS = 90  # --traffic-only: how long the feed follows the demo's traffic


QUIET_SECONDS = 3.0  # the feed this long without news: the stories have been planned
ABSENCE_WAIT_SECONDS = 60.0  # no course with a therapist by then: no absence is sent


@dataclass
class _Absence:
    """Story 12 in the demo: once the stories are planned, the therapist with the most
    sessions in the first days of the plans is absent those days; sent once."""

    clinic_id: str
    sent: bool = False
    plans: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by course

    def notice(self, event: dict[str, Any]) -> None:
        data = event.get("data", {})
        if event.get("type", "").startswith("courseflow.course.") and "course_id" in data:
            self.plans[data["course_id"]] = data.get("sessions", [])

    def choose(self) -> tuple[str, date] | None:
        """(therapist, first day): the days of the earliest session given by a therapist."""
        sessions = [s for plan in self.plans.values() for s in plan if s.get("therapist_id")]
        if not sessions:
            return None
        first = min(date.fromisoformat(s["on"]) for s in sessions)
        window = {first + timedelta(days=n) for n in range(ABSENCE_DAYS)}
        counts = Counter(s["therapist_id"] for s in sessions
                         if date.fromisoformat(s["on"]) in window)  # fmt: skip
        therapist = min(counts, key=lambda t: (-counts[t], t))
        return therapist, first


async def _traffic_and_feed(settings: ServiceSettings, say: Say, *, forever: bool) -> None:
    outputs = [settings.topic_eligibility, settings.topic_schedule, settings.topic_notices,
               settings.topic_dead_letters]  # fmt: skip
    consumer = AIOKafkaConsumer(
        *outputs, bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="latest", enable_auto_commit=False,
    )  # fmt: skip
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await consumer.start()
    await producer.start()
    try:
        await _wait_for_assignment(consumer)
        today = datetime.now(UTC).date()
        absence = _Absence(demo_clinic())
        for story in roster_events(absence.clinic_id, today):
            await _send(producer, settings.topic_staff_events, absence.clinic_id, story, say)
        patients: set[str] = set()
        for story in story_events(today, absence.clinic_id):
            subject = story[1].subject
            await _send(producer, settings.topic_patient_events, subject, story, say)
            patients.add(subject)
        say("following what the services publish (Ctrl-C stops everything):")
        started = last_news = time.monotonic()
        while forever or time.monotonic() < started + FEED_SECONDS:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key and record.key.decode() in patients:
                        last_news = time.monotonic()
                        _follow_record(record.topic, record.value, absence, say)
            now = time.monotonic()
            if absence.sent or now - last_news < QUIET_SECONDS:
                continue
            chosen = absence.choose()
            if chosen is not None:
                story = absence_event(absence.clinic_id, *chosen)
                await _send(producer, settings.topic_staff_events, absence.clinic_id, story, say)
                absence.sent = True
            elif now - started > ABSENCE_WAIT_SECONDS:
                say("no session got a therapist: no absence is sent")
                absence.sent = True
    finally:
        await producer.stop()
        await consumer.stop()


def _follow_record(topic: str, value: bytes, absence: _Absence, say: Say) -> None:
    say(_describe(topic, value))
    try:
        event = json.loads(value)
    except ValueError:
        return
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        return
    absence.notice(event)
    for line in _moves(event):
        say(line)


async def _send(
    producer: AIOKafkaProducer, topic: str, key: str, story: tuple[str, Envelope], say: Say
) -> None:
    what, event = story
    await producer.send_and_wait(
        topic, to_bytes(event), key=key.encode(),
        headers=[("content-type", CONTENT_TYPE.encode())],
    )  # fmt: skip
    say(f"→ {event.subject:<26} {event.type:<34} {what}")


async def _wait_for_assignment(consumer: AIOKafkaConsumer) -> None:
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=200)
    for partition in consumer.assignment():
        await consumer.position(partition)  # pin "latest" before the demo sends anything


def _describe(topic: str, value: bytes) -> str:
    try:
        event = json.loads(value)
        data = event["data"]
    except (ValueError, KeyError, TypeError):
        return f"← {topic}: a message that is not a CloudEvent (see the dead-letter topic)"
    subject = event.get("subject", "?")
    if event.get("type") == "courseflow.notice.issued":
        route = f"{data.get('channel')}:{data.get('recipient')}"
        return f"← notice   {subject:<26} {route}  {data.get('summary')}"
    if event.get("type") == "courseflow.eligibility.decided":
        verdict = "eligible" if data.get("eligible") else "not eligible"
        rules = ",".join(b["rule"] for b in data.get("blocks", []))
        return f"← decision {subject:<26} {verdict} {rules}".rstrip()
    sessions = data.get("sessions", [])
    first = _slot(sessions[0]) if sessions else "-"
    rules = ",".join(data.get("rules", []))
    kind = event.get("type", "").rsplit(".", 1)[-1]
    return (f"← schedule {subject:<26} {kind:<12} {data.get('status')} {len(sessions)} "
            f"planned, first {first} {rules}").rstrip()  # fmt: skip


def _slot(session: dict[str, Any]) -> str:
    """`2026-12-02 10:00 by T-…`: day, start (as published, UTC offset included) and
    therapist; without a roster the day alone."""
    starts = session.get("starts_at")
    at = f" {starts[11:16]}{starts[19:]}" if starts else ""
    therapist = session.get("therapist_id")
    return f"{session.get('on')}{at}" + (f" by {therapist}" if therapist else "")


def _moves(event: dict[str, Any]) -> list[str]:
    """A rescheduled course's changes: which session moved, from whom to whom."""
    if event.get("type") != "courseflow.course.rescheduled":
        return []
    lines = []
    for change in event["data"].get("changes", []):
        was = {"on": change.get("from_on"), "starts_at": change.get("from_starts_at"),
               "therapist_id": change.get("from_therapist_id")}  # fmt: skip
        now = {"on": change.get("to_on"), "starts_at": change.get("to_starts_at"),
               "therapist_id": change.get("to_therapist_id")}  # fmt: skip
        lines.append(f"    moved {change.get('session_id')}: {_slot(was)} → {_slot(now)}")
    return lines
