"""A minimal service on the shared runtime, for testing the runtime's guarantees.

Each valid input adds one row to `effects` (no uniqueness: a doubled effect would show) and
publishes one echo to the schedule topic with the same id, so duplicates are countable.
`echo.reject` is rejected before any write; `echo.crash` fails after writing its effect.
Run as a process with `python -m tests.integration.echo.service NAME SUFFIX`.
"""

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import Rejected
from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings


@dataclass(frozen=True)
class EchoEvent:
    id: str
    source: str
    type: str
    subject: str
    correlationid: str | None = None


def decode(raw: bytes) -> EchoEvent:
    try:
        body = json.loads(raw)
        return EchoEvent(body["id"], body["source"], body["type"], body["subject"])
    except (ValueError, KeyError, TypeError):
        raise Rejected("not an echo event") from None


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


def build(name: str, suffix: str) -> ServiceRuntime:
    settings = settings_for(suffix)
    runtime = ServiceRuntime(
        name, settings, migrations=[Path(__file__).parent / "migrations"],
        log=structlog.get_logger().bind(service=name),
    )  # fmt: skip

    async def process(conn: Conn, event: EchoEvent) -> Sequence[OutboxMessage]:
        if event.type == "echo.reject":
            raise Rejected("rejected by the echo rules")
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", event.id)
        if event.type == "echo.crash":  # a bug after a write: the write must not stay
            raise RuntimeError("the echo handler failed")
        echo = json.dumps({"id": event.id, "type": "echo.done", "subject": event.subject})
        return [OutboxMessage(settings.topic_schedule, event.subject.encode(), echo.encode())]

    runtime.consume(settings.topic_patient_events, decode, process)
    return runtime


if __name__ == "__main__":
    asyncio.run(build(sys.argv[1], sys.argv[2]).app().run())
