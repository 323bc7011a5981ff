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
        asyncio.run(_delete_created_since(bootstrap, before))


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


async def _delete_created_since(bootstrap: str, before: set[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        created = set(await admin.list_topics()) - before
        doomed = sorted(topic for topic in created if not topic.startswith("__"))
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
