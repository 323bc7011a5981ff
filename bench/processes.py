"""The three services as OS processes, configured only by environment, own database."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

SERVICES = ("eligibility", "planner", "notifier")


@dataclass(frozen=True, slots=True)
class Topics:
    patient_events: str
    eligibility: str
    schedule: str
    notices: str
    dead_letters: str

    @classmethod
    def for_run(cls, suffix: str) -> "Topics":
        names = ("patient-events", "eligibility", "schedule", "notices", "dead-letters")
        return cls(*(f"bench.{suffix}.{name}" for name in names))

    def env(self) -> dict[str, str]:
        return {
            "COURSEFLOW_TOPIC_PATIENT_EVENTS": self.patient_events,
            "COURSEFLOW_TOPIC_ELIGIBILITY": self.eligibility,
            "COURSEFLOW_TOPIC_SCHEDULE": self.schedule,
            "COURSEFLOW_TOPIC_NOTICES": self.notices,
            "COURSEFLOW_TOPIC_DEAD_LETTERS": self.dead_letters,
        }

    def all(self) -> list[str]:
        return [self.patient_events, self.eligibility, self.schedule, self.notices,
                self.dead_letters]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@dataclass
class Service:
    name: str
    port: int
    log_file: Path
    label: str  # the service's name, or `<name>-<replica>` when it runs more than once
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def service_of(label: str) -> str:
    """`planner-2` → `planner` (a replica's figures added up under its service)."""
    return label.rsplit("-", 1)[0] if label not in SERVICES else label


@dataclass
class ServiceGroup:
    """Starts the services, waits for /health, and always stops them (SIGTERM, then SIGKILL).

    With `replicas` > 1 every service runs that many processes in the one consumer group,
    as in production with more than one instance.
    """

    env: dict[str, str]
    run_dir: Path
    groups: dict[str, str]  # service -> its consumer group and schema
    replicas: int = 1
    services: list[Service] = field(default_factory=list)

    def argv(self, name: str) -> list[str]:
        if self.groups[name] == name:  # exactly as people run it
            return [sys.executable, "-m", "services.cli", "run", name]
        return [sys.executable, "-m", "bench.service", name, self.groups[name]]

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            for replica in range(1, self.replicas + 1):
                self._start_one(name, name if self.replicas == 1 else f"{name}-{replica}")

    def _start_one(self, name: str, label: str) -> None:
        service = Service(name, free_port(), self.run_dir / f"{label}.log", label)
        env = {**self.env, f"COURSEFLOW_{name.upper()}_HTTP_PORT": str(service.port)}
        with service.log_file.open("wb") as log:
            service.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                self.argv(name),
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C on the terminal reaches only the harness
            )  # fmt: skip
        self.services.append(service)

    async def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            for service in self.services:
                while True:
                    if service.process is not None and service.process.poll() is not None:
                        raise RuntimeError(f"{service.label} exited; see {service.log_file}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{service.url}/health")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{service.label} not healthy; see {service.log_file}")
                    await asyncio.sleep(0.25)

    def check_alive(self) -> None:
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                raise RuntimeError(f"{service.label} exited; see {service.log_file}")

    def pids(self) -> dict[str, int]:
        """Process id per label (the service's name when it runs once)."""
        return {s.label: s.process.pid for s in self.services if s.process is not None}

    def stop(self, timeout_s: float = 15.0) -> None:
        running = [s.process for s in self.services if s.process is not None]
        for proc in running:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def service_env(
    *, bootstrap: str, database_url: str, topics: Topics, log_level: str,
    overrides: dict[str, str],
) -> dict[str, str]:  # fmt: skip
    """The harness's environment without any COURSEFLOW_* of the caller, plus the run's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEFLOW_")}
    env.update({
        "COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "COURSEFLOW_DATABASE_URL": database_url,
        "COURSEFLOW_LOG_LEVEL": log_level,
        "COURSEFLOW_LOG_FORMAT": "json",
        **topics.env(),
        **overrides,
    })  # fmt: skip
    return env
