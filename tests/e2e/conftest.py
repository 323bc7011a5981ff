"""One running system for the whole end-to-end module: its own topics, patients unique per story.

The services' schemas and consumer groups are fixed names (`eligibility`, `planner`,
`notifier`), so the stories share one set of processes and never share a patient.
"""

import uuid
from collections.abc import AsyncIterator

import pytest

from services.stack.kafka import KafkaStack
from tests.e2e.system import System, running_system


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    folder = tmp_path_factory.mktemp("e2e")
    bootstrap = KafkaStack.from_env().bootstrap_servers
    async with running_system(bootstrap, uuid.uuid4().hex[:10], folder) as running:
        yield running
