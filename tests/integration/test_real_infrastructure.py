"""The broker is a real Apache Kafka in KRaft mode and the database a real PostgreSQL."""

import uuid

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from services.stack.kafka import cluster_id


async def test_idempotent_and_transactional_producers_initialise(bootstrap: str) -> None:
    idempotent = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await idempotent.start()
    await idempotent.stop()

    transactional = AIOKafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=f"probe-{uuid.uuid4().hex[:8]}"
    )
    await transactional.start()  # runs InitProducerId against the transaction coordinator
    try:
        async with transactional.transaction():
            pass
    finally:
        await transactional.stop()


async def test_cluster_reports_a_kraft_cluster_id(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_cluster()
    finally:
        await admin.close()
    kraft_id = described["cluster_id"]
    assert isinstance(kraft_id, str)
    assert len(kraft_id) == 22  # a base64 UUID as written by `kafka-storage format`
    assert described["controller_id"] == 1


def test_stack_cluster_id_probe_answers_for_the_real_broker(bootstrap: str) -> None:
    assert cluster_id(bootstrap) is not None
    assert cluster_id("127.0.0.1:1", timeout_s=2) is None


async def test_postgres_is_a_real_server(db: asyncpg.Connection) -> None:
    version_num = int(await db.fetchval("SHOW server_version_num"))
    assert version_num >= 150000
    assert "PostgreSQL" in await db.fetchval("SELECT version()")
