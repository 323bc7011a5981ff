"""A minimal service on the shared runtime, for testing the runtime's guarantees.

Each valid input adds one row to `effects` (no uniqueness: a doubled effect would show) and
publishes one echo to the schedule topic with the same id, so duplicates are countable.
`echo.reject` is rejected by the Decider; `echo.crash` makes the repository fail after
writing its effect. Run as a process with `python -m tests.integration.echo.service NAME SUFFIX`.
"""

import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from services.runtime.clock import SystemClock, clinic_context
from services.runtime.db import Conn
from services.runtime.decider import Context, Decided, Decider, Rejected
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import Pipeline
from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings


@dataclass(frozen=True)
class EchoEvent:
    id: str
    source: str
    type: str
    subject: str
    correlationid: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


def decode(raw: bytes) -> EchoEvent | Rejected:
    try:
        body = json.loads(raw)
        return EchoEvent(body["id"], body["source"], body["type"], body["subject"])
    except (ValueError, KeyError, TypeError):
        return Rejected("not an echo event")


EchoDecided = Decided[EchoEvent, None, EchoEvent]


@dataclass(frozen=True)
class EchoDecider:
    """Every event is its own command and output; the state is nothing."""

    topic: str

    def translate(self, event: EchoEvent) -> EchoEvent | Rejected:
        return Rejected("rejected by the echo rules") if event.type == "echo.reject" else event

    def decide(
        self, state: None, command: EchoEvent, _context: Context
    ) -> tuple[None, Sequence[EchoEvent]]:
        return state, [command]

    def encode(self, decided: EchoDecided) -> Sequence[OutboxMessage]:
        return [echo_message(self.topic, event) for event in decided.outputs]


def echo_message(topic: str, event: EchoEvent) -> OutboxMessage:
    echo = json.dumps({"id": event.id, "type": "echo.done", "subject": event.subject})
    return OutboxMessage(topic, event.subject.encode(), echo.encode())


class EchoRepository:
    async def load_many(self, _conn: Conn, keys: Sequence[str]) -> dict[str, None]:
        return dict.fromkeys(keys)

    async def save_many(
        self, conn: Conn, _states: Mapping[str, None], decided: Sequence[EchoDecided]
    ) -> None:
        await conn.executemany(
            "INSERT INTO effects (event_id) VALUES ($1)", [(d.command.id,) for d in decided]
        )
        if any(d.command.type == "echo.crash" for d in decided):  # a bug after a write
            raise RuntimeError("the echo repository failed")


def settings_for(suffix: str) -> ServiceSettings:
    return ServiceSettings(
        topic_patient_events=f"in-{suffix}",
        topic_eligibility=f"elig-{suffix}",
        topic_schedule=f"out-{suffix}",
        topic_notices=f"notices-{suffix}",
        topic_dead_letters=f"dead-{suffix}",
        topic_partitions=2,
        outbox_poll_interval_s=0.2,
    )


EchoDeciding = Decider[EchoEvent, EchoEvent, None, EchoEvent]
EchoPipeline = Pipeline[EchoEvent, EchoEvent, None, EchoEvent]


def echo_pipeline(
    consumer: str, schema: str, decider: EchoDeciding | None = None, **options: Any
) -> EchoPipeline:
    """The echo service's pipeline alone (no broker), dead-lettering to topic `dead`."""
    return Pipeline(
        consumer=consumer, schema=schema, decoders={"clinic": decode},
        decider=decider or EchoDecider("out"),
        repository=EchoRepository(), context=clinic_context(SystemClock(), "UTC"),
        dead_letter_topic="dead", log=structlog.get_logger(), **options,
    )  # fmt: skip


def build(name: str, suffix: str) -> ServiceRuntime:
    settings = settings_for(suffix)
    runtime = ServiceRuntime(
        name, settings, migrations=[Path(__file__).parent / "migrations"],
        log=structlog.get_logger().bind(service=name),
    )  # fmt: skip

    runtime.consume(
        {settings.topic_patient_events: decode}, EchoDecider(settings.topic_schedule),
        EchoRepository(), clinic_context(SystemClock(), "UTC"),
    )  # fmt: skip
    return runtime


if __name__ == "__main__":
    asyncio.run(build(sys.argv[1], sys.argv[2]).app().run())
