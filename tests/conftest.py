"""Fixtures of every test session.

- Every test starts from structlog's defaults: `logs.configure` binds the stderr of the
  moment; under pytest that is a capture file closed after the test, so a later test logging
  through the global configuration would write to a closed file.
- The topics a session creates on the local broker are deleted when it ends: every run
  creates a few hundred of its own, and a broker that kept them all, run after run, took
  longer to start than `courseflow stack up` waits (12,000 partitions after a few days).
"""

import asyncio
import socket
from collections.abc import Iterator

import pytest
import structlog
from aiokafka.admin import AIOKafkaAdminClient

from bench.kafka_io import delete_topics
from services.stack.kafka import KafkaStack


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session", autouse=True)
def _session_topics_deleted() -> Iterator[None]:
    bootstrap = KafkaStack.from_env().bootstrap_servers
    before = asyncio.run(_topics(bootstrap)) if _listening(bootstrap) else None
    yield
    if before is not None and _listening(bootstrap):
        created = asyncio.run(_topics(bootstrap)) - before
        asyncio.run(delete_topics(bootstrap, sorted(t for t in created if not t.startswith("__"))))


def _listening(bootstrap: str) -> bool:
    """A broker accepts connections there (a session of unit tests runs without one)."""
    host, port = bootstrap.split(",", maxsplit=1)[0].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()
