"""Prometheus metrics of one service: what operators watch (served at /metrics).

monitoring/alerts.yml and the Grafana dashboard read these names; a unit test keeps them in
step (tests/unit/test_monitoring_names.py).
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_asgi_app

from schemas.dead_letters import ERROR_HEADER

if TYPE_CHECKING:
    from faststream.asgi.types import ASGIApp, Receive, Scope, Send

    from services.runtime.fold import BatchResult
    from services.runtime.publish import PendingRow
    from services.runtime.relay import OutboxState

DELIVERY_OUTCOMES = ("delivered", "retry", "failed")


@dataclass
class Metrics:
    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        labels = ["service", "topic"]
        self.messages = Counter(
            "courseflow_messages_total", "Consumed messages by outcome",
            [*labels, "outcome"], registry=self.registry,
        )  # fmt: skip
        self.batch_latency = Histogram(
            "courseflow_batch_seconds", "Time to handle one consumed batch (one transaction)",
            labels, registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.consumer_lag = Gauge(
            "courseflow_consumer_lag", "Messages behind the high watermark, per partition",
            [*labels, "partition"], registry=self.registry,
        )  # fmt: skip
        self.outbox_backlog = Gauge(
            "courseflow_outbox_backlog", "Outbox rows not yet published", ["service"],
            registry=self.registry,
        )  # fmt: skip
        self.published = Counter(
            "courseflow_outbox_published_total", "Outbox rows published, per topic",
            ["service", "topic"], registry=self.registry,
        )  # fmt: skip
        self.dead_letters = Counter(
            "courseflow_dead_letters_total",
            "Dead letters published: bad input, a timer or a notice given up",
            ["service"], registry=self.registry,
        )  # fmt: skip
        # At 0 from the start: increase() cannot see the first dead letter of a new series.
        self.dead_letters.labels(self.service)
        self.outbox_oldest_unsent_age = Gauge(
            "courseflow_outbox_oldest_unsent_age_seconds",
            "Age of the oldest outbox row neither published nor parked (0 when none)",
            ["service"], registry=self.registry,
        )  # fmt: skip
        self.outbox_parked = Counter(
            "courseflow_outbox_parked", "Outbox rows parked: they can never be published",
            ["service", "reason"], registry=self.registry,
        )  # fmt: skip
        self.outbox_parked_rows = Gauge(
            "courseflow_outbox_parked_rows", "Parked outbox rows (courseflow outbox parked)",
            ["service"], registry=self.registry,
        )  # fmt: skip
        self.producer_replaced = Counter(
            "courseflow_outbox_producer_replaced",
            "Outbox producers replaced because the old one could no longer send",
            ["service"], registry=self.registry,
        )  # fmt: skip
        self.deliveries = Counter(
            "courseflow_notice_deliveries_total",
            "Notice delivery attempts by outcome: delivered, retry (failed, tried again "
            "later), failed (given up: notice.issued failed and a dead letter)",
            ["service", "channel", "outcome"], registry=self.registry,
        )  # fmt: skip
        # No sample until `scrape_app` measures it: a service that does not measure its
        # health must not look unhealthy.
        self.healthy = Gauge(
            "courseflow_healthy", "1 while /health answers 200, else 0 (measured per scrape)",
            ["service"], registry=self.registry,
        )  # fmt: skip
        self.timer_oldest_due_age = Gauge(
            "courseflow_timer_oldest_due_age_seconds",
            "Since the start of the clinic-local day the oldest due timer (neither fired nor "
            "set aside) fell due; 0 when none is due",
            ["service", "timer"], registry=self.registry,
        )  # fmt: skip

    def batch_done(self, topics: str, result: "BatchResult", seconds: float) -> None:
        """A consumed batch of the consumer that reads `topics` (comma-separated): its
        messages counted under each record's own topic, its time under the consumer's."""
        for (topic, outcome), count in result.counts.items():
            self.messages.labels(self.service, topic, outcome).inc(count)
        self.batch_latency.labels(self.service, topics).observe(seconds)

    def outbox(self, schema: str, state: "OutboxState") -> None:
        self.outbox_backlog.labels(schema).set(state.backlog)
        self.outbox_oldest_unsent_age.labels(schema).set(state.oldest_unsent_age_s)
        self.outbox_parked_rows.labels(schema).set(state.parked)

    def outbox_published(self, schema: str, rows: "Sequence[PendingRow]") -> None:
        """Rows the relay published: per topic, and the dead letters among them (every dead
        letter carries the x-error header, whoever wrote it and whatever the topic is named)."""
        per_topic: dict[str, int] = {}
        for row in rows:
            per_topic[row.topic] = per_topic.get(row.topic, 0) + 1
        for topic, count in per_topic.items():
            self.published.labels(schema, topic).inc(count)
        dead = sum(1 for row in rows if any(name == ERROR_HEADER for name, _ in row.headers))
        if dead:
            self.dead_letters.labels(schema).inc(dead)

    def expect_deliveries(self, channels: Iterable[str]) -> None:
        """Every outcome of every channel at 0, so the first failure shows in increase()."""
        for channel in channels:
            for outcome in DELIVERY_OUTCOMES:
                self.deliveries.labels(self.service, channel, outcome)

    def delivery(self, channel: str, outcome: str) -> None:
        self.deliveries.labels(self.service, channel, outcome).inc()

    def timers_due(self, kind: str, oldest_due: date | None, now: datetime, timezone: str) -> None:
        """After a timer tick: how long the oldest timer still due has been due."""
        age = 0.0 if oldest_due is None else (now - day_start(oldest_due, timezone)).total_seconds()
        self.timer_oldest_due_age.labels(self.service, kind).set(max(age, 0.0))

    def scrape_app(self, healthy: Callable[[], Awaitable[bool]]) -> "ASGIApp":
        """/metrics that first asks `healthy` (what /health answers), so courseflow_healthy
        is as fresh as the scrape and needs no loop of its own."""
        serve = make_asgi_app(self.registry)

        async def app(scope: "Scope", receive: "Receive", send: "Send") -> None:
            if scope.get("type") == "http":
                self.healthy.labels(self.service).set(1 if await healthy() else 0)
            await serve(scope, receive, send)

        return app


def day_start(day: date, timezone: str) -> datetime:
    """The instant a clinic-local calendar day begins."""
    return datetime.combine(day, time(), ZoneInfo(timezone))
