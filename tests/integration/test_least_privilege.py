"""Each service logs in as its own role, which can touch only its own schema."""

import asyncio
import base64
import os
from pathlib import Path

import asyncpg
import pytest

from services import SERVICES
from services.cli import password_variable
from services.runtime.db import migrate
from services.runtime.launcher import courseflow_command
from services.stack.postgres import DATABASE, PostgresStack
from services.stack.roles import provision, role_for
from services.stack.scram import scram_verifier

STACK = PostgresStack.from_env()
pytestmark = pytest.mark.skipif(
    STACK.external_url is not None, reason="roles are provisioned on the local cluster only"
)


@pytest.fixture(autouse=True, scope="module")
async def provisioned() -> None:
    """As `stack up` does: earlier tests may have run a service as the superuser, whose
    tables in a service's schema pass back to the service's role here."""
    await provision(STACK.url, DATABASE)


async def connect_as(service: str) -> asyncpg.Connection:
    return await asyncpg.connect(STACK.service_url(service))


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_role_migrates_and_uses_its_own_schema(service: str) -> None:
    conn = await connect_as(service)
    try:
        assert await conn.fetchval("SELECT current_user") == f"courseflow_{service}"
        folder = Path("services") / service / "migrations"
        await migrate(conn, service, [folder])
        assert await conn.fetchval(f'SELECT count(*) >= 0 FROM "{service}".outbox')
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("service", "other"),
    [(s, o) for s in SERVICES for o in SERVICES if s != o],
)
async def test_a_service_role_cannot_read_another_services_tables(service: str, other: str) -> None:
    conn = await connect_as(service)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f'SELECT * FROM "{other}".outbox LIMIT 1')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f'CREATE TABLE "{other}".intruder (x int)')
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_role_cannot_create_anything_outside_its_schema(service: str) -> None:
    conn = await connect_as(service)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (x int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE SCHEMA intruder")
    finally:
        await conn.close()


def salt_and_iterations(verifier: str) -> tuple[bytes, int]:
    iterations, _, salt = verifier.split("$")[1].partition(":")
    return base64.b64decode(salt), int(iterations)


async def test_cli_provision_sets_each_role_password_quietly_and_twice(
    db: asyncpg.Connection, suffix: str
) -> None:
    """`courseflow db provision` as compose's `db-roles` runs it: superuser URL and the
    passwords from the environment; a second run changes nothing and exits 0 too. Its
    session logs every statement (`log_statement=all` in the URL), and the server log gets
    the SCRAM verifiers, never a password."""
    passwords = {service: f"pw'{service}-{suffix}" for service in SERVICES}
    env = {
        **os.environ,
        "COURSEFLOW_DATABASE_URL": f"{STACK.url}?log_statement=all",
        **{password_variable(service): pw for service, pw in passwords.items()},
    }
    server_log = STACK.data_dir.parent / "postgres.log"
    logged_before = server_log.stat().st_size
    try:
        for _ in range(2):
            proc = await asyncio.create_subprocess_exec(
                *courseflow_command("db", "provision"),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            assert out.decode().count("(password set)") == len(SERVICES)
            assert suffix not in (out + err).decode()
        with server_log.open("rb") as log:
            log.seek(logged_before)
            logged = log.read().decode(errors="replace")
        assert logged.count("PASSWORD 'SCRAM-SHA-256$4096:") >= 2 * len(SERVICES)  # logging was on
        assert suffix not in logged
        for service in SERVICES:
            role = role_for(service)
            verifier = await db.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
            )
            assert verifier.startswith("SCRAM-SHA-256$"), service
            assert verifier in logged  # the very string sent is the one stored
            salt, iterations = salt_and_iterations(verifier)
            assert (len(salt), iterations) == (16, 4096)
            # scram_verifier itself is checked against verifiers PostgreSQL made (test_scram.py)
            assert verifier == scram_verifier(passwords[service], salt, iterations), service
            assert verifier != scram_verifier(f"{passwords[service]}x", salt, iterations)
            owner = await db.fetchval(
                "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1", service
            )
            assert owner == role
    finally:  # the local cluster trusts its roles: leave them as `stack up` made them
        for service in SERVICES:
            await db.execute(f'ALTER ROLE "{role_for(service)}" PASSWORD NULL')
