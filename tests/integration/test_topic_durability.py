"""Topics are created with the replication factor and min.insync.replicas of the settings
(or of the cluster's size), read back from the broker."""

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.runtime.topics import ensure_topics
from tests.integration.kafka_io import eventually

# DescribeConfigs' config source of a value set on the topic itself (not a broker default).
TOPIC_CONFIG_SOURCE = 1


async def topic_durability(bootstrap: str, topic: str) -> tuple[int, str, int]:
    """(replicas of partition 0, min.insync.replicas, where that value comes from)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def partitions() -> list[Any]:
            # A topic just created may not be in every broker's metadata yet (three nodes).
            described = await admin.describe_topics([topic])
            return list(described[0]["partitions"]) if described else []

        async def min_insync() -> list[Any]:
            # Nor its configuration: a broker that does not know it yet answers with none.
            resource = ConfigResource(
                ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None}
            )
            responses = await admin.describe_configs([resource])
            entries = responses[0].to_object()["resources"][0]["config_entries"]
            return [e for e in entries if e["config_names"] == "min.insync.replicas"]

        first, *_ = await eventually(partitions, timeout_s=30)
        replicas = len(first["replicas"])
        (entry,) = await eventually(min_insync, timeout_s=30)
    finally:
        await admin.close()
    return replicas, entry["config_value"], entry.get("config_source", TOPIC_CONFIG_SOURCE)


async def test_one_broker_gives_replication_one_with_min_insync_set_on_the_topic(
    bootstrap: str, suffix: str
) -> None:
    await ensure_topics(bootstrap, [f"durable-{suffix}"], partitions=1)
    assert await topic_durability(bootstrap, f"durable-{suffix}") == (1, "1", TOPIC_CONFIG_SOURCE)


async def test_the_settings_are_passed_to_the_broker(bootstrap: str, suffix: str) -> None:
    await ensure_topics(
        bootstrap, [f"durable-{suffix}"], partitions=1, replication=1, min_insync_replicas=1
    )
    assert await topic_durability(bootstrap, f"durable-{suffix}") == (1, "1", TOPIC_CONFIG_SOURCE)
