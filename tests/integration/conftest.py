"""Integration tests talk to the real local broker and database started by `make test`."""

import os
import uuid
from collections.abc import AsyncIterator, Mapping

import asyncpg
import pytest

from services.stack.kafka import KafkaStack
from services.stack.postgres import PostgresStack

BOOTSTRAP = KafkaStack.from_env().bootstrap_servers
DATABASE_URL = PostgresStack.from_env().url
os.environ.setdefault("COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS", BOOTSTRAP)
os.environ.setdefault("COURSEFLOW_DATABASE_URL", DATABASE_URL)


def as_service(service: str, env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a service process in its own schema, logging in as the service's role as in
    production: tables it created as the tests' superuser could not be read by that role
    afterwards (the end-to-end suite runs the services in the same schemas)."""
    url = PostgresStack.from_env().service_url(service)
    return {f"COURSEFLOW_{service.upper()}_DATABASE_URL": url, **env}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def bootstrap() -> str:
    return BOOTSTRAP


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def db() -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        yield conn
    finally:
        await conn.close()
