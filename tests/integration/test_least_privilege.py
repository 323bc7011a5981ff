"""Each service logs in as its own role, which can touch only its own schema."""

from pathlib import Path

import asyncpg
import pytest

from services.runtime.db import migrate
from services.stack.postgres import DATABASE, PostgresStack
from services.stack.roles import SERVICES, provision

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
