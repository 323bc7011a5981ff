"""The contract's topics are created at start-up; partitions are the unit of scale-out.

Durability is chosen, not assumed: every topic gets a replication factor and a
`min.insync.replicas`, from the settings or, when they are unset, from the number of
brokers the cluster has. With `acks=all` a write is then acknowledged only once
`min.insync.replicas` brokers hold it, so losing one broker of three loses nothing.
"""

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

# A replica of every partition on three brokers, two of them in sync for a write: the
# common production choice (one broker may fail or be restarted without refusing writes).
FULL_REPLICATION = 3


@dataclass(frozen=True, slots=True)
class Durability:
    replication_factor: int
    min_insync_replicas: int

    def topic_configs(self) -> dict[str, str]:
        return {"min.insync.replicas": str(self.min_insync_replicas)}


def durability_for(
    brokers: int,
    *,
    replication_factor: int | None = None,
    min_insync_replicas: int | None = None,
) -> Durability:
    """What a topic gets on a cluster of `brokers`: the settings when given, else 1 broker →
    RF 1 / min ISR 1, 2 → RF 2 / min ISR 1, 3 or more → RF 3 / min ISR 2."""
    replicas = replication_factor or min(max(brokers, 1), FULL_REPLICATION)
    in_sync = min_insync_replicas or max(replicas - 1, 1)
    if replicas > brokers:
        raise ValueError(
            f"replication factor {replicas} needs at least {replicas} brokers; "
            f"the cluster has {brokers}"
        )
    if in_sync > replicas:
        raise ValueError(
            f"min.insync.replicas {in_sync} exceeds the replication factor {replicas}: "
            "no write could ever be acknowledged"
        )
    return Durability(replicas, in_sync)


async def ensure_topics(  # noqa: PLR0913 (keyword-only, each with its default)
    bootstrap_servers: str,
    names: Iterable[str],
    *,
    partitions: int,
    replication: int | None = None,
    min_insync_replicas: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Durability:
    """Create the missing topics; existing ones are left as they are. Returns the durability
    chosen for this cluster."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **(options or {}))
    await admin.start()
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        durability = durability_for(
            brokers, replication_factor=replication, min_insync_replicas=min_insync_replicas
        )
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=n,
                num_partitions=partitions,
                replication_factor=durability.replication_factor,
                topic_configs=durability.topic_configs(),
            )
            for n in sorted(set(names) - existing)
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service was first
                await admin.create_topics(missing)
    finally:
        await admin.close()
    return durability


@dataclass(frozen=True, slots=True)
class RunTopics:
    """The contract's six topics and the planner's own, under names of one run's own (a
    test's, a benchmark's), and the settings that point the services at them."""

    patient_events: str
    eligibility: str
    schedule: str
    notices: str
    dead_letters: str
    staff_events: str
    planner_commands: str

    @classmethod
    def under(cls, prefix: str) -> "RunTopics":
        """`<prefix>.patient-events`, `<prefix>.eligibility`, …"""
        return cls(*(f"{prefix}.{topic.name.replace('_', '-')}" for topic in fields(cls)))

    @property
    def every(self) -> list[str]:
        return [getattr(self, topic.name) for topic in fields(self)]

    @property
    def published(self) -> list[str]:
        return [self.eligibility, self.schedule, self.notices, self.dead_letters]

    def inputs(self, service: str) -> list[str]:
        """The topics a service consumes."""
        return [topic for topics in self.consumers(service) for topic in topics]

    def consumers(self, service: str) -> list[list[str]]:
        """The topics of each consumer (one group member per process) of a service: one per
        Decider, whatever its topics (`ServiceRuntime.consume`)."""
        return {
            "eligibility": [[self.patient_events]],
            "planner": [
                [self.patient_events, self.eligibility, self.planner_commands],
                [self.staff_events],
            ],
            "notifier": [[self.schedule, self.eligibility]],
        }[service]

    def env(self) -> dict[str, str]:
        return {f"COURSEFLOW_TOPIC_{t.name.upper()}": getattr(self, t.name) for t in fields(self)}
