"""A Kafka broker and a PostgreSQL cluster of the fault suite's own, free to be restarted.

Nothing here touches the shared local stack: ports are free ones, homes live in the test's
temporary directory, the Kafka jars are the cached ones (a symlink), and `stop` always runs.
"""

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.runtime.launcher import free_port
from services.stack import roles
from services.stack.kafka import KafkaStack
from services.stack.postgres import SUPERUSER, PostgresStack


def _stat(path: Path) -> list[str]:
    """State, parent pid, ... of one process (Linux /proc); empty once it is gone."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def children_of(pid: int) -> list[int]:
    stats = ((path, _stat(path)) for path in Path("/proc").glob("[0-9]*/stat"))
    return [int(path.parent.name) for path, fields in stats if fields[1:2] == [str(pid)]]


def alive(pid: int) -> bool:
    """Still in the process table, if only as a zombie: a new postmaster refuses to start
    while the pid in postmaster.pid answers kill(pid, 0)."""
    return bool(_stat(Path(f"/proc/{pid}/stat")))


@dataclass(frozen=True)
class Infra:
    kafka: KafkaStack
    postgres: PostgresStack

    @classmethod
    def under(cls, folder: Path) -> "Infra":
        kafka = KafkaStack(home=folder / "kafka", port=free_port(), controller_port=free_port(),
                           partitions=3)  # fmt: skip
        kafka.home.mkdir(parents=True)
        kafka.libs.symlink_to(KafkaStack.from_env().libs)  # the cached jars
        postgres = PostgresStack(home=folder / "postgres", port=free_port(), durable=True)
        return cls(kafka, postgres)

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap_servers

    def start(self) -> None:
        """Synchronous (the stacks run their own event loops): call outside a running loop."""
        self.kafka.up()
        self.postgres.up()

    def stop(self) -> None:
        try:
            self.kafka.down()
        finally:
            self.postgres.down()

    async def restart_kafka(self) -> None:
        await asyncio.to_thread(self.kafka.down)
        await asyncio.to_thread(self.kafka.up)

    async def restart_postgres(self) -> None:
        log = self.postgres.data_dir.parent / "postgres.log"
        await asyncio.to_thread(
            self.postgres._pg_ctl, "-m", "fast", "-w", "-t", "60", "-l", str(log), "restart"
        )

    async def crash_postgres(self, timeout_s: float = 60) -> None:
        """kill -9 of the postmaster (no shutdown checkpoint: the next start replays the WAL),
        then a start once it is reaped and its orphaned backends have let go of shared memory."""
        postmaster = int((self.postgres.data_dir / "postmaster.pid").read_text().split()[0])
        backends = children_of(postmaster)
        os.kill(postmaster, signal.SIGKILL)
        deadline = time.monotonic() + timeout_s
        while any(alive(pid) for pid in (postmaster, *backends)):
            if time.monotonic() > deadline:
                raise AssertionError(f"postgres processes still there {timeout_s}s after the crash")
            await asyncio.sleep(0.2)
        log = self.postgres.data_dir.parent / "postgres.log"
        await asyncio.to_thread(self.postgres._pg_ctl, "-w", "-t", "60", "-l", str(log), "start")

    async def durability(self) -> dict[str, str]:
        """The cluster's fsync, full_page_writes and synchronous_commit."""
        conn = await asyncpg.connect(self.admin_url("postgres"), timeout=10)
        try:
            names = ("fsync", "full_page_writes", "synchronous_commit")
            return {name: str(await conn.fetchval(f"SHOW {name}")) for name in names}
        finally:
            await conn.close()

    def admin_url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.postgres.port}/{database}"

    def service_url(self, service: str, database: str) -> str:
        return f"postgresql://{roles.role_for(service)}@127.0.0.1:{self.postgres.port}/{database}"

    async def create_database(self, name: str) -> None:
        """A database per run, with each service's least-privilege role and schema in it."""
        conn = await asyncpg.connect(self.admin_url("postgres"), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await roles.provision(self.admin_url(name), name)
