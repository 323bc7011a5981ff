"""`courseflow demo` (`make run`): the local stack, the three services as processes, demo
patients, and a readable feed of what the system publishes, until Ctrl-C."""

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.codec import CONTENT_TYPE, to_bytes
from services import SERVICES
from services.demo.stories import story_events
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


async def _traffic_and_feed(settings: ServiceSettings, say: Say, *, forever: bool) -> None:
    outputs = [settings.topic_eligibility, settings.topic_schedule, settings.topic_notices,
               settings.topic_dead_letters]  # fmt: skip
    consumer = AIOKafkaConsumer(
        *outputs, bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="latest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        await _wait_for_assignment(consumer)
        patients = await _send_stories(settings, say)
        say("following what the services publish (Ctrl-C stops everything):")
        deadline = time.monotonic() + 60
        while forever or time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key and record.key.decode() in patients:
                        say(_describe(record.topic, record.value))
    finally:
        await consumer.stop()


async def _wait_for_assignment(consumer: AIOKafkaConsumer) -> None:
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=200)
    for partition in consumer.assignment():
        await consumer.position(partition)  # pin "latest" before the demo sends anything


async def _send_stories(settings: ServiceSettings, say: Say) -> set[str]:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    patients: set[str] = set()
    try:
        for what, event in story_events(datetime.now(UTC).date()):
            await producer.send_and_wait(
                settings.topic_patient_events, to_bytes(event), key=event.subject.encode(),
                headers=[("content-type", CONTENT_TYPE.encode())],
            )  # fmt: skip
            patients.add(event.subject)
            say(f"→ {event.subject:<26} {event.type:<34} {what}")
    finally:
        await producer.stop()
    return patients


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
    first = sessions[0]["on"] if sessions else "-"
    return (f"← schedule {subject:<26} {event.get('type', '').rsplit('.', 1)[-1]:<12} "
            f"{data.get('status')} {len(sessions)} planned, first {first}")  # fmt: skip
