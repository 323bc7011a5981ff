"""The notifier killed between sending a notice and recording it sends it again on restart,
with the same webhook-id: a recipient that honours it gets the notice once."""

import asyncio
import os
import sys
from pathlib import Path

from schemas.codec import to_bytes
from services.runtime import failpoints
from services.runtime.topics import ensure_topics
from tests.integration.kafka_io import produce
from tests.integration.peers import notifier_harness as h
from tests.integration.peers.smtp import free_port
from tests.integration.peers.webhook import WebhookReceiver

ARGV = [sys.executable, "-m", "services.cli", "run", "notifier"]


async def test_killed_after_delivery_before_recording_does_not_deliver_twice(
    bootstrap: str, suffix: str, tmp_path: Path
) -> None:
    receiver = await WebhookReceiver().start()
    routing = h.routing_file(tmp_path, {"front-desk": h.local_webhook(receiver)})
    # A port of its own for the service's health/metrics endpoint, where it has one.
    env = {**os.environ, **h.env(suffix, routing, http_port=free_port())}
    await ensure_topics(bootstrap, [f"sched-{suffix}", f"notices-{suffix}"], partitions=2)
    patient = h.new_patient()
    event = h.schedule_event("suspended", patient)
    await produce(bootstrap, f"sched-{suffix}", to_bytes(event), key=patient.encode())
    crashing = await asyncio.create_subprocess_exec(
        *ARGV, env={**env, "COURSEFLOW_FAILPOINTS": "after_delivery"}
    )
    try:
        exit_code = await asyncio.wait_for(crashing.wait(), timeout=45)
    finally:
        if crashing.returncode is None:
            crashing.kill()
    assert exit_code == failpoints.EXIT_CODE
    assert len(receiver.requests) == 1  # sent, then killed before the outcome was recorded
    restarted = await asyncio.create_subprocess_exec(*ARGV, env=env)
    try:
        [issued] = await h.issued_for(bootstrap, f"notices-{suffix}", patient, 1)
    finally:
        restarted.terminate()
        await asyncio.wait_for(restarted.wait(), timeout=30)
        await receiver.stop()
    assert issued["delivery"] == "delivered"
    assert receiver.requests == [issued["notice_id"], issued["notice_id"]]  # sent again...
    assert list(receiver.accepted) == [issued["notice_id"]]  # ...and taken once
