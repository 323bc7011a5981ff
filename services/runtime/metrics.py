"""Prometheus metrics of one service: what operators watch (served at /metrics)."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from services.runtime.relay import OutboxState


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
            "courseflow_outbox_published_total", "Outbox rows published", ["service"],
            registry=self.registry,
        )  # fmt: skip
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

    def batch_done(
        self, topic: str, *, handled: int, duplicates: int, dead_letters: int, seconds: float
    ) -> None:
        for outcome, count in (
            ("handled", handled), ("duplicate", duplicates), ("dead_letter", dead_letters)
        ):  # fmt: skip
            if count:
                self.messages.labels(self.service, topic, outcome).inc(count)
        self.batch_latency.labels(self.service, topic).observe(seconds)

    def outbox(self, schema: str, state: "OutboxState") -> None:
        self.outbox_backlog.labels(schema).set(state.backlog)
        self.outbox_oldest_unsent_age.labels(schema).set(state.oldest_unsent_age_s)
        self.outbox_parked_rows.labels(schema).set(state.parked)
