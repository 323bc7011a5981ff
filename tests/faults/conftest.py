"""The fault suite's own Kafka broker and PostgreSQL cluster, stopped whatever happens."""

import shutil
from collections.abc import Iterator

import pytest

from tests.faults.infra import Infra


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    folder = tmp_path_factory.mktemp("faults")
    own = Infra.under(folder)
    try:
        own.start()
        yield own
    finally:
        own.stop()
        data = own.postgres.data_dir.parent
        if not data.is_relative_to(folder):  # as root the cluster lives where its owner reaches
            shutil.rmtree(data, ignore_errors=True)
