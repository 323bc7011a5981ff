"""The relay's producer sends a drain's rows in a few large batches, not 16 KiB at a time.

Under load the relay fell behind what its own service committed: aiokafka's default batch
of 16 KiB held three schedule events, and a partition's next batch went out only after the
one before was acknowledged (`OUTBOX_BATCH_BYTES`). Counted here as produce requests.
"""

import uuid
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.produce import ProduceRequest

from services.runtime.publish import PendingRow, publish
from services.runtime.service import OUTBOX_BATCH_BYTES, ServiceRuntime
from services.runtime.settings import ServiceSettings

ROWS, ROW_BYTES = 200, 5_000  # a drain's worth of schedule events, on one partition


async def test_a_drain_of_schedule_events_goes_out_in_a_few_produce_requests(
    bootstrap: str,
) -> None:
    topic = f"relay-batching-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    runtime = ServiceRuntime("batching", ServiceSettings(kafka_bootstrap_servers=bootstrap))
    producer = runtime._outbox_producer()  # the relay's own producer, as built
    await producer.start()
    requests: list[Any] = []
    send = producer.client.send

    async def counting(node_id: int, request: Any, **options: Any) -> Any:
        if isinstance(request, ProduceRequest):
            requests.append(request)
        return await send(node_id, request, **options)

    producer.client.send = counting
    rows = [PendingRow(n, topic, b"P-1", bytes([65 + n % 26]) * ROW_BYTES, []) for n in range(ROWS)]
    try:
        delivery = await publish(producer, rows)
    finally:
        await producer.stop()

    assert [row.id for row in delivery.sent] == list(range(ROWS))
    assert len(requests) <= -(-ROWS * ROW_BYTES // OUTBOX_BATCH_BYTES) + 1
