"""What operators see of a running service: /health, Prometheus /metrics, JSON log lines."""

import socket
from datetime import UTC, datetime

import httpx

from services.runtime.topics import ensure_topics
from tests.clinic_events import ClinicFeed, wire
from tests.integration.kafka_io import eventually, produce
from tests.integration.processes import courseflow, running


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_health_and_metrics_of_a_running_service(bootstrap: str, suffix: str) -> None:
    port = free_port()
    env = {f"COURSEFLOW_ELIGIBILITY_{name.upper()}": value for name, value in {
        "topic_patient_events": f"clinic-{suffix}", "topic_eligibility": f"elig-{suffix}",
        "topic_dead_letters": f"dead-{suffix}", "http_port": str(port),
    }.items()}  # fmt: skip
    await ensure_topics(bootstrap, [f"clinic-{suffix}"], partitions=2)
    feed = ClinicFeed()
    for event in (feed.enrolled(datetime.now(UTC).date()),):
        key, value = wire(event)
        await produce(bootstrap, f"clinic-{suffix}", value, key=key)
    await produce(bootstrap, f"clinic-{suffix}", b"not an event", key=b"P-1")

    async with running(courseflow("run", "eligibility"), env), httpx.AsyncClient() as http:
        base = f"http://127.0.0.1:{port}"

        async def healthy() -> bool:
            try:
                return (await http.get(f"{base}/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, timeout_s=60)

        async def counted() -> str | None:
            text = (await http.get(f"{base}/metrics")).text
            return text if 'outcome="dead_letter"' in text and 'outcome="handled"' in text else None

        metrics = await eventually(counted, timeout_s=30)
    labels = f'outcome="handled",service="eligibility",topic="clinic-{suffix}"'
    assert f"courseflow_messages_total{{{labels}}} 1.0" in metrics
    assert "courseflow_consumer_lag" in metrics
    assert "courseflow_outbox_backlog" in metrics
