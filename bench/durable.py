"""`--durable`: a PostgreSQL cluster of the run's own that puts every commit on disk.

The stack's cluster trades durability for speed (`fsync = off`), so its figures are not a
production database's. This cluster is the one the fault suite crashes (tests/faults/infra.py):
the stack's `PostgresStack` with `durable=True` (`fsync`, `full_page_writes` and
`synchronous_commit` on), in a temporary directory on a free port, removed after the run.
"""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.processes import free_port, with_database
from services.stack.postgres import PostgresStack

SETTINGS = ("fsync", "full_page_writes", "synchronous_commit")


@dataclass
class DurableCluster:
    postgres: PostgresStack
    folder: Path
    data_dir: Path  # outside `folder` as root (see PostgresStack.data_dir)

    @classmethod
    def create(cls) -> "DurableCluster":
        folder = Path(tempfile.mkdtemp(prefix="courseflow-bench-pg-"))
        postgres = PostgresStack(home=folder / "postgres", port=free_port(), durable=True)
        return cls(postgres, folder, postgres.data_dir)

    def start(self) -> str:
        """Synchronous (the stack runs its own event loop); the superuser's URL."""
        self.postgres.up()
        return self.postgres.url

    def remove(self) -> None:
        try:
            self.postgres.down()
        finally:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)
            shutil.rmtree(self.folder, ignore_errors=True)


async def durability(server_url: str) -> dict[str, str]:
    """`fsync`, `full_page_writes` and `synchronous_commit` of the server the run uses."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"), timeout=10)
    try:
        return {name: str(await conn.fetchval(f"SHOW {name}")) for name in SETTINGS}
    finally:
        await conn.close()


def is_durable(settings: dict[str, str]) -> bool:
    return all(settings.get(name) == "on" for name in SETTINGS)
