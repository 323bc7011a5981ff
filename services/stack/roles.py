"""Least privilege in PostgreSQL: each service logs in as its own role, which owns its own
schema and can touch nothing else (no other schema, no objects in `public`)."""

import asyncpg

from services import SERVICES
from services.stack.scram import new_scram_verifier


def role_for(service: str) -> str:
    return f"courseflow_{service}"


async def provision(admin_url: str, database: str, passwords: dict[str, str] | None = None) -> None:
    """Create each service's role and schema (idempotent); needs a superuser connection."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
        await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        # The planner's bookings table needs it (R-NO-OVERLAP's exclusion constraint), and
        # only a superuser may create it: the planner's migration then finds it there.
        await conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for service in SERVICES:
            role = role_for(service)
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                await conn.execute(f'CREATE ROLE "{role}" LOGIN')
            password = (passwords or {}).get(service)
            if password is not None:
                await conn.execute(_set_password(role, password))
            await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{service}" AUTHORIZATION "{role}"')
            await conn.execute(f'ALTER SCHEMA "{service}" OWNER TO "{role}"')
            await conn.execute(_OWN_TABLES.format(schema=service, role=role))
    finally:
        await conn.close()


# Tables made before the role existed (by an older set-up) pass to the service's role too.
_OWN_TABLES = """
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p', 'v', 'm')
  LOOP
    EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', '{schema}', t.relname, '{role}');
  END LOOP;
END $$
"""


def _set_password(role: str, password: str) -> str:
    """The statement setting a role's password: it holds the SCRAM verifier, never the
    password, which would otherwise reach the server log (see `services.stack.scram`)."""
    if not password:  # as PostgreSQL does with an empty password: none
        return f'ALTER ROLE "{role}" PASSWORD NULL'
    return f"ALTER ROLE \"{role}\" PASSWORD '{_quoted(new_scram_verifier(password))}'"


def _quoted(literal: str) -> str:
    return literal.replace("'", "''")
