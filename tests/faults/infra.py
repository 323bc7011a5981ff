"""A Kafka broker and a PostgreSQL cluster of the fault suite's own, free to be restarted.

Nothing here touches the shared local stack: ports are free ones, homes live in the test's
temporary directory, the Kafka jars are the cached ones (a symlink), and `stop` always runs.
"""

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.stack import roles
from services.stack.kafka import KafkaStack
from services.stack.postgres import SUPERUSER, PostgresStack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        return cls(kafka, PostgresStack(home=folder / "postgres", port=free_port()))

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
