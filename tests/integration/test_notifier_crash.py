"""The notifier killed between sending a notice and recording it sends it again after the
attempt's lease, with the same webhook-id: a recipient that honours it gets the notice once,
and the attempt made before the crash is counted."""

from pathlib import Path

import asyncpg

from schemas.codec import to_bytes
from services.runtime import failpoints
from services.runtime.launcher import ServiceProcess, service_command
from services.runtime.topics import ensure_topics
from tests.integration.kafka_io import produce
from tests.integration.peers import notifier_harness as h
from tests.integration.peers.webhook import WebhookReceiver


async def test_killed_after_delivery_before_recording_does_not_deliver_twice(
    bootstrap: str, suffix: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    receiver = await WebhookReceiver().start()
    routing = h.routing_file(tmp_path, {"front-desk": h.local_webhook(receiver)})
    env = h.env(suffix, routing, http_port=0)
    schema = f"notif_{suffix}"  # and consumer group: rows other tests left are not its first
    argv = service_command("notifier", schema)
    await ensure_topics(bootstrap, [f"sched-{suffix}", f"notices-{suffix}"], partitions=2)
    patient = h.new_patient()
    event = h.schedule_event("suspended", patient)
    await produce(bootstrap, f"sched-{suffix}", to_bytes(event), key=patient.encode())
    crashing = ServiceProcess(
        "notifier", {**env, "COURSEFLOW_FAILPOINTS": "after_delivery"}, argv=argv
    )
    assert await crashing.exit_code(timeout_s=45) == failpoints.EXIT_CODE
    assert len(receiver.requests) == 1  # sent, then killed before the outcome was recorded
    leased = await db.fetchrow(
        f"SELECT status, attempts, due_at FROM {schema}.deliveries WHERE patient_id = $1", patient
    )
    assert leased is not None
    assert (leased["status"], leased["attempts"]) == ("pending", 1)  # counted before sending
    assert leased["due_at"].timestamp() > receiver.arrivals[0]  # leased, not due at once
    try:
        async with ServiceProcess("notifier", env, argv=argv).running():
            [issued] = await h.issued_for(bootstrap, f"notices-{suffix}", patient, 1)
    finally:
        await receiver.stop()
    assert (issued["delivery"], issued["attempts"]) == ("delivered", 2)
    assert receiver.requests == [issued["notice_id"], issued["notice_id"]]  # sent again...
    assert list(receiver.accepted) == [issued["notice_id"]]  # ...and taken once
    assert receiver.arrivals[1] >= leased["due_at"].timestamp()  # ...once the lease ended
