"""Launching a service: in this process (`courseflow run <service>`), or as a child process
that the demo, the tests and the benchmark start, wait for and stop.

`python -m services.runtime.launcher <service> <group>` runs a service under another
consumer group and Postgres schema (see `run_service`); no setting changes them.
"""

import asyncio
import contextlib
import gc
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog
import uvloop
from faststream.asgi import AsgiFastStream

from services.runtime.collector import collect_less, freeze_start_up
from services.runtime.service import ServiceApp
from services.runtime.settings import ServiceSettings


def run_service(name: str, *, group: str | None = None) -> int:
    """Run a service until a signal. `group` (its name by default) is the consumer group and
    Postgres schema: under a group of its own a benchmarked or tested service does not join
    the groups of whatever else runs on the broker (they would rebalance each other)."""
    settings = service_settings(name)
    collect_less(settings.gc_young_threshold)
    app_module = importlib.import_module(f"services.{name}.app")
    runtime, _service = app_module.build_runtime(settings, name=group or name)
    app = runtime.app()
    freeze_start_up()
    serve(app, settings, service=name)
    return 0


def serve(app: ServiceApp, settings: ServiceSettings, *, service: str) -> None:
    """Run the app on uvloop until a signal. uvloop does the event loop's socket and timer
    work in C: less CPU per Kafka request and database round trip than asyncio's own loop."""
    uvloop.run(_run(app, settings, service))


async def _run(app: ServiceApp, settings: ServiceSettings, service: str) -> None:
    # Which loop really runs and how garbage is collected, for operators and the test that
    # checks it.
    loop = type(asyncio.get_running_loop())
    log = structlog.get_logger().bind(service=service)
    log.info(
        "event loop", event_loop=f"{loop.__module__}.{loop.__qualname__}",
        gc_threshold=list(gc.get_threshold()),
    )  # fmt: skip
    if isinstance(app, AsgiFastStream):
        options: dict[str, str | int] = {
            "host": settings.http_host, "port": settings.http_port, "access_log": "false",
        }  # fmt: skip
        await app.run(run_extra_options=dict(options))
    else:
        await app.run()


def service_settings(name: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    settings_class: type[ServiceSettings] = getattr(module, f"{name.capitalize()}Settings")
    return settings_class()


def courseflow_command(*args: str) -> list[str]:
    """The `courseflow` command line, with this interpreter."""
    return [sys.executable, "-m", "services.cli", *args]


def service_command(name: str, group: str | None = None) -> list[str]:
    """The command that runs a service: the README's way, or under a group of its own."""
    if group is None or group == name:
        return courseflow_command("run", name)
    return [sys.executable, "-m", "services.runtime.launcher", name, group]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceDownError(RuntimeError):
    """A child service stopped, or never became healthy; the message ends with its log."""


@dataclass
class ServiceProcess:
    """A service as a child OS process, configured by its environment.

    `env` is set on top of this process's environment; with `inherit_settings=False` this
    process's own `COURSEFLOW_*` variables are left out, so the child gets only what it is
    given. `port` (None: not set here) becomes the service's HTTP port, where `ready` polls
    /health. Output goes to `log_path` (appended), or to this process's output when None.
    `detached` puts the child in a session of its own: a Ctrl-C on the terminal then reaches
    only its parent, which stops it. `pid_file` records it for `courseflow stack down`.
    """

    name: str
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    port: int | None = None
    argv: Sequence[str] = ()  # default: service_command(name)
    inherit_settings: bool = True
    detached: bool = False
    pid_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    paused: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def environment(self, extra_env: Mapping[str, str]) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if self.inherit_settings or not key.startswith("COURSEFLOW_")
        }
        port = {} if self.port is None else {self.port_variable: str(self.port)}
        return {**inherited, **self.env, **port, **extra_env}

    @property
    def port_variable(self) -> str:
        return f"COURSEFLOW_{self.name.upper()}_HTTP_PORT"

    def start(self, extra_env: Mapping[str, str] | None = None) -> None:
        argv = list(self.argv) or service_command(self.name)
        env = self.environment(extra_env or {})
        with contextlib.ExitStack() as files:
            log = None
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                log = files.enter_context(self.log_path.open("ab"))
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=None if log is None else subprocess.STDOUT,
                start_new_session=self.detached,
            )  # fmt: skip
        self.paused = False
        if self.pid_file is not None:
            self.pid_file.write_text(f"{self.process.pid}\n")

    def check_alive(self) -> None:
        if not self.alive:
            raise ServiceDownError(f"{self.name} is not running:\n{self.log_tail()}")

    async def ready(self, timeout_s: float = 60) -> None:
        """Until /health answers 200 (broker and database reachable), or fail with the log
        (also when the process started here has exited)."""
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if self.process is not None:
                    self.check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health")).status_code == httpx.codes.OK:
                        return
                if time.monotonic() > deadline:
                    raise ServiceDownError(f"{self.name} not healthy in time:\n{self.log_tail()}")
                await asyncio.sleep(0.2)

    async def exit_code(self, timeout_s: float = 90) -> int:
        """Start, and wait until the process exits by itself (e.g. at a failpoint); kill it at
        the deadline."""
        self.start()
        proc = self.process
        assert proc is not None
        try:
            return await asyncio.to_thread(proc.wait, timeout_s)
        finally:
            if proc.poll() is None:
                self.kill()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["ServiceProcess"]:
        """Started for the duration of the block, then stopped (SIGTERM)."""
        self.start()
        try:
            yield self
        finally:
            await self.stop()

    def terminate(self, timeout_s: float = 30) -> None:
        """SIGTERM (a clean stop), SIGKILL if it does not stop in time; waits for it."""
        terminate_all([self], timeout_s)

    async def stop(self, timeout_s: float = 30) -> None:
        await asyncio.to_thread(self.terminate, timeout_s)

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing is flushed or committed."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def pause(self) -> None:
        """SIGSTOP: the process keeps its connections but answers nothing (no heartbeat)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
        self.paused = False

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def forget(self) -> None:
        """The process is gone: drop it and its pid file."""
        self.process, self.paused = None, False
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)


def terminate_all(processes: Sequence[ServiceProcess], timeout_s: float = 30) -> None:
    """SIGTERM to each at once (they stop in parallel), SIGKILL to those not stopped in time."""
    stopping = [p.process for p in processes if p.process is not None and p.alive]
    for service in processes:
        if service.alive and service.paused:
            service.resume()  # a stopped process sees SIGTERM only once continued
    for proc in stopping:
        proc.terminate()
    deadline = time.monotonic() + timeout_s
    for proc in stopping:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for service in processes:
        service.forget()


if __name__ == "__main__":
    sys.exit(run_service(sys.argv[1], group=sys.argv[2]))
