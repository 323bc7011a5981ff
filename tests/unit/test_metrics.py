"""What /metrics says: per-topic publishing, dead letters, deliveries, timers and health."""

from datetime import UTC, date, datetime
from typing import Any

from prometheus_client import generate_latest

from schemas.dead_letters import ERROR_HEADER
from services.runtime.fold import BatchResult
from services.runtime.incoming import Incoming
from services.runtime.metrics import DELIVERY_OUTCOMES, Metrics
from services.runtime.publish import PendingRow


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def row(topic: str, *, dead: bool = False) -> PendingRow:
    headers = [(ERROR_HEADER, b"schema error")] if dead else [("content-type", b"x")]
    return PendingRow(1, topic, b"p-1", b"{}", headers)


def test_published_rows_are_counted_per_topic_and_dead_letters_by_their_header() -> None:
    metrics = Metrics("planner")
    rows = [row("courseflow.schedule"), row("courseflow.schedule"),
            row("renamed.dead-letters", dead=True)]  # fmt: skip
    metrics.outbox_published("planner", rows)
    published = "courseflow_outbox_published_total"
    assert value(metrics, published, service="planner", topic="courseflow.schedule") == 2
    assert value(metrics, published, service="planner", topic="renamed.dead-letters") == 1
    assert value(metrics, "courseflow_dead_letters_total", service="planner") == 1


def test_dead_letters_start_at_zero_so_the_first_one_is_an_increase() -> None:
    metrics = Metrics("eligibility")
    assert value(metrics, "courseflow_dead_letters_total", service="eligibility") == 0


def test_every_delivery_outcome_of_every_channel_starts_at_zero() -> None:
    metrics = Metrics("notifier")
    metrics.expect_deliveries(["webhook", "email"])
    metrics.delivery("webhook", "failed")
    name = "courseflow_notice_deliveries_total"
    for channel in ("webhook", "email"):
        for outcome in DELIVERY_OUTCOMES:
            expected = 1 if (channel, outcome) == ("webhook", "failed") else 0
            assert value(metrics, name, service="notifier", channel=channel, outcome=outcome) == (
                expected
            )


def test_timer_age_counts_from_the_start_of_the_clinic_local_due_day() -> None:
    metrics = Metrics("eligibility")
    name = "courseflow_timer_oldest_due_age_seconds"
    # 2025-03-30 02:00 does not exist in Berlin: 03:00 local is 2 hours into the day.
    now = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    metrics.timers_due("decision", date(2025, 3, 30), now, "Europe/Berlin")
    assert value(metrics, name, service="eligibility", timer="decision") == 2 * 3600
    metrics.timers_due("decision", date(2025, 3, 29), now, "Europe/Berlin")
    assert value(metrics, name, service="eligibility", timer="decision") == 24 * 3600 + 2 * 3600
    metrics.timers_due("decision", None, now, "Europe/Berlin")
    assert value(metrics, name, service="eligibility", timer="decision") == 0


async def scrape(metrics: Metrics, *, healthy: bool) -> str:
    async def check() -> bool:
        return healthy

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"",
             "headers": []}  # fmt: skip
    await metrics.scrape_app(check)(scope, receive, send)
    assert sent[0]["status"] == 200
    return b"".join(m.get("body", b"") for m in sent[1:]).decode()


async def test_health_is_measured_at_each_scrape_and_absent_before() -> None:
    metrics = Metrics("notifier")
    assert "courseflow_healthy{" not in generate_latest(metrics.registry).decode()
    assert 'courseflow_healthy{service="notifier"} 1.0' in await scrape(metrics, healthy=True)
    assert 'courseflow_healthy{service="notifier"} 0.0' in await scrape(metrics, healthy=False)


def test_a_consumer_of_several_topics_counts_messages_per_record_topic_and_batches_once() -> None:
    metrics = Metrics("planner")
    result = BatchResult()
    for topic, outcome in [("clinic.patient-events", "handled"), ("courseflow.eligibility",
                           "handled"), ("courseflow.eligibility", "dead_letter")]:  # fmt: skip
        result.count(Incoming(topic, 0, 0, b"p-1", b""), outcome)
    consumer = "clinic.patient-events,courseflow.eligibility"
    metrics.batch_done(consumer, result, 0.02)
    messages = "courseflow_messages_total"
    assert value(metrics, messages, service="planner", topic="clinic.patient-events",
                 outcome="handled") == 1  # fmt: skip
    assert value(metrics, messages, service="planner", topic="courseflow.eligibility",
                 outcome="handled") == 1  # fmt: skip
    assert value(metrics, messages, service="planner", topic="courseflow.eligibility",
                 outcome="dead_letter") == 1  # fmt: skip
    assert value(metrics, "courseflow_batch_seconds_count", service="planner",
                 topic=consumer) == 1  # fmt: skip
    assert (result.handled, result.dead_letters, result.duplicates) == (2, 1, 0)
