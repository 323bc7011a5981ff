"""The three services as OS processes, configured only by environment, own database."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services import SERVICES
from services.runtime.launcher import ServiceProcess, free_port, service_command, terminate_all
from services.runtime.topics import RunTopics


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(with_database(server_url, "postgres"), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def service_of(label: str) -> str:
    """`planner-2` → `planner` (a replica's figures added up under its service)."""
    return label.rsplit("-", 1)[0] if label not in SERVICES else label


@dataclass
class ServiceGroup:
    """Starts the services, waits for /health, and always stops them (SIGTERM, then SIGKILL).

    With `replicas` > 1 every service runs that many processes in the one consumer group,
    as in production with more than one instance; each is known by its label
    (`<service>-<replica>`, or the service's name when it runs once).
    """

    env: dict[str, str]
    run_dir: Path
    groups: dict[str, str]  # service -> its consumer group and schema
    replicas: int = 1
    services: dict[str, ServiceProcess] = field(default_factory=dict)  # by label

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            for replica in range(1, self.replicas + 1):
                label = name if self.replicas == 1 else f"{name}-{replica}"
                service = ServiceProcess(
                    name, self.env, self.run_dir / f"{label}.log", free_port(),
                    service_command(name, self.groups[name]),  # under its own name: people's way
                    inherit_settings=False,
                    detached=True,  # a Ctrl-C on the terminal reaches only the harness
                )  # fmt: skip
                service.start()
                self.services[label] = service

    async def wait_healthy(self, timeout_s: float) -> None:
        for service in self.services.values():
            await service.ready(timeout_s)

    def check_alive(self) -> None:
        for service in self.services.values():
            service.check_alive()

    def pids(self) -> dict[str, int]:
        """Process id per label."""
        return {label: s.pid for label, s in self.services.items() if s.process is not None}

    def urls(self) -> dict[str, str]:
        return {label: s.url for label, s in self.services.items()}

    def logs(self) -> dict[str, Path]:
        return {label: s.log_path for label, s in self.services.items() if s.log_path}

    def stop(self, timeout_s: float = 15.0) -> None:
        terminate_all(list(self.services.values()), timeout_s)


def service_env(
    *, bootstrap: str, database_url: str, topics: RunTopics, log_level: str,
    overrides: dict[str, str],
) -> dict[str, str]:  # fmt: skip
    """The run's settings: the services get no other COURSEFLOW_* (`inherit_settings`)."""
    return {
        "COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "COURSEFLOW_DATABASE_URL": database_url,
        "COURSEFLOW_LOG_LEVEL": log_level,
        "COURSEFLOW_LOG_FORMAT": "json",
        **topics.env(),
        **overrides,
    }
