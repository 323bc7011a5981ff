"""FastStream's own error lines pass the log allow-list too (issue 11, item 9).

FastStream logs a failed handler as `f"{type}: {exception}"` in the line's message, with the
exception attached; an exception's text may quote the message body (a pydantic validation
error does, so does a database error quoting a value). Through `services.runtime.logs` the
line names the exception's type, never its text.
"""

import asyncio
import json
import uuid

import pytest
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from services.runtime import logs
from tests.integration.kafka_io import eventually

CANARY = "Canary-Jane-Doe-0815"


async def test_a_faststream_error_line_carries_no_payload_value(
    bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = logs.configure("eligibility", fmt="json")
    broker = KafkaBroker(bootstrap, logger=log)
    topic = f"faststream-errors-{uuid.uuid4().hex[:8]}"
    failed: list[str] = []

    @broker.subscriber(topic, group_id=f"{topic}-a", auto_offset_reset="earliest",
                       ack_policy=AckPolicy.ACK)  # fmt: skip
    async def quotes_the_body(body: str) -> None:
        failed.append(body)
        raise ValueError(f"invalid input syntax for type uuid: {body!r}")

    @broker.subscriber(topic, group_id=f"{topic}-b", auto_offset_reset="earliest",
                       ack_policy=AckPolicy.ACK)  # fmt: skip
    async def wants_a_number(body: int) -> None:  # the body fails FastStream's own validation
        failed.append(str(body))

    await broker.start()
    try:
        await broker.publish(f"name={CANARY}", topic)
        await eventually(lambda: failed)

        def error_lines() -> list[dict[str, object]]:
            lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
            seen.extend(line for line in lines if line.get("level") == "error")
            return seen

        seen: list[dict[str, object]] = []
        await eventually(lambda: len(error_lines()) >= 2)
    finally:
        await broker.stop()
        await asyncio.sleep(0)

    for line in seen:
        assert CANARY.lower() not in json.dumps(line).lower()
        assert set(line) <= logs.ALLOWED_KEYS
    assert {line.get("error") for line in seen} >= {"ValueError", "ValidationError"}
