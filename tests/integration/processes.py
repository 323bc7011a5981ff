"""Services as real OS processes, for crash and restart tests."""

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from services.stack.postgres import PostgresStack


async def exit_code(argv: list[str], env: Mapping[str, str], *, timeout_s: float = 90) -> int:
    """Run until the process exits by itself (e.g. at a failpoint); kill it at the deadline."""
    proc = await asyncio.create_subprocess_exec(*argv, env={**os.environ, **env})
    try:
        return await asyncio.wait_for(proc.wait(), timeout_s)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def running(
    argv: list[str], env: Mapping[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A process that runs for the duration of the block, then is asked to stop (SIGTERM)."""
    proc = await asyncio.create_subprocess_exec(*argv, env={**os.environ, **env})
    try:
        yield proc
    finally:
        await terminate(proc)


async def terminate(proc: asyncio.subprocess.Process, *, timeout_s: float = 30) -> None:
    """SIGTERM (a clean stop), SIGKILL if it does not stop in time."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def as_service(service: str, env: Mapping[str, str]) -> dict[str, str]:
    """`env` for `courseflow run <service>` logging in as the service's own role, as in
    production: tables it created as the tests' superuser could not be read by that role
    afterwards (the end-to-end suite runs the services in the same schemas)."""
    url = PostgresStack.from_env().service_url(service)
    return {f"COURSEFLOW_{service.upper()}_DATABASE_URL": url, **env}


def courseflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]
