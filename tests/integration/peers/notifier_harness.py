"""Shared set-up of the notifier's integration tests: settings, routing files, events."""

import json
import uuid
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.codec import new_event, to_bytes
from schemas.envelope import Envelope
from schemas.examples import EXAMPLES
from services.notifier.app import build_runtime
from services.notifier.settings import NotifierSettings
from services.runtime.service import ServiceRuntime
from tests.integration.kafka_io import produce, read_until
from tests.integration.peers.webhook import SECRET, WebhookReceiver

FAST_DELIVERY = {
    "delivery_first_retry_s": 0.2, "delivery_max_retry_s": 1.0,
    "delivery_poll_interval_s": 0.1, "delivery_max_attempts": 5,
    "webhook_timeout_s": 2.0, "smtp_timeout_s": 2.0, "outbox_poll_interval_s": 0.2,
}  # fmt: skip


def topics(suffix: str) -> dict[str, Any]:
    return {
        "topic_patient_events": f"clinic-{suffix}", "topic_eligibility": f"elig-{suffix}",
        "topic_schedule": f"sched-{suffix}", "topic_notices": f"notices-{suffix}",
        "topic_dead_letters": f"dead-{suffix}", "topic_partitions": 2,
    }  # fmt: skip


def settings(suffix: str, routing: Path, **overrides: Any) -> NotifierSettings:
    return NotifierSettings(**{**topics(suffix), **FAST_DELIVERY, "routing_file": routing,
                               "log_format": "json", **overrides})  # fmt: skip


def env(suffix: str, routing: Path, **overrides: Any) -> dict[str, str]:
    values = {**topics(suffix), **FAST_DELIVERY, "routing_file": routing, **overrides}
    return {f"COURSEFLOW_NOTIFIER_{k.upper()}": str(v) for k, v in values.items()}


def local_webhook(receiver: WebhookReceiver) -> dict[str, Any]:
    """The receiver listens on plain HTTP on 127.0.0.1: allowed only because the file says so."""
    return {"channel": "webhook", "url": receiver.url, "secret": SECRET,
            "allow_insecure_local": True}  # fmt: skip


def local_smtp(port: int) -> dict[str, Any]:
    """The test's SMTP peer speaks no TLS: a local relay, so the file turns TLS off for it."""
    return {"host": "127.0.0.1", "port": port, "sender": "courseflow@north.example", "tls": "none"}


def routing_file(folder: Path, recipients: dict[str, Any], **extra: Any) -> Path:
    path = folder / "routing.json"
    routes = [{"kinds": ["*"], "recipients": list(recipients)}]
    path.write_text(json.dumps({"clinic": "test", "recipients": recipients, "routes": routes,
                                **extra}))  # fmt: skip
    return path


def schedule_event(event_type: str, patient: str, **changes: Any) -> Envelope:
    example = deepcopy(dict(EXAMPLES[f"courseflow.course.{event_type}"]))
    event: Envelope = new_event(
        example["type"], source="/courseflow/planner", subject=patient,
        data={**example["data"], **changes}, time=datetime.now(UTC),
        id=f"sched-{uuid.uuid4().hex}", correlationid="corr-test",
    )  # fmt: skip
    return event


@dataclass
class Notifier:
    """A notifier service run in the test's process, with the peers it delivers to."""

    runtime: ServiceRuntime
    bootstrap: str
    suffix: str
    webhook: WebhookReceiver = field(default_factory=WebhookReceiver)

    @classmethod
    async def start(
        cls, bootstrap: str, suffix: str, routing: Path, **overrides: Any
    ) -> "Notifier":
        runtime, _ = build_runtime(settings(suffix, routing, **overrides), name=f"notif_{suffix}")
        await runtime.start()
        return cls(runtime, bootstrap, suffix)

    async def send(self, *events: Envelope, topic: str = "sched") -> None:
        for event in events:
            key, value = event.subject.encode(), to_bytes(event)
            await produce(self.bootstrap, f"{topic}-{self.suffix}", value, key=key)

    async def issued(self, patient: str, count: int) -> list[dict[str, Any]]:
        return await issued_for(self.bootstrap, f"notices-{self.suffix}", patient, count)


def new_patient() -> str:
    return f"P-{uuid.uuid4().hex[:10]}"


async def issued_for(bootstrap: str, topic: str, patient: str, count: int) -> list[dict[str, Any]]:
    """The notice.issued data published for `patient`, once `count` of them are there."""

    def enough(records: list[Any]) -> bool:
        return len([r for r in records if r.key == patient.encode()]) >= count

    records = await read_until(bootstrap, topic, enough)
    return [json.loads(r.value)["data"] for r in records if r.key == patient.encode()]


def decision_event(patient: str, version: int, *, eligible: bool, **data: Any) -> Envelope:
    event: Envelope = new_event(
        "courseflow.eligibility.decided", source="/courseflow/eligibility", subject=patient,
        data={"eligible": eligible, "eligible_from": None, "blocks": [], "restrictions": [],
              "version": version, **data},
        time=datetime.now(UTC), id=f"dec-{uuid.uuid4().hex}",
    )  # fmt: skip
    return event
