"""Advisory locks, one namespace per kind, so that no two kinds ever share a hash space.

PostgreSQL's two-key advisory locks `(int4, int4)` never conflict with each other across
different first keys: the first key is the kind of lock, the second the hash of its name.
A relay's schema and a patient key can no longer hash to the same lock and wait on each
other. Transaction locks wait at most `lock_timeout` (then `LockNotAvailableError`, which is
transient): a lock held by a stuck session delays a batch, it never hangs it.
"""

import asyncio
from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # db.py takes the migration lock from here
    from services.runtime.db import Conn


class LockNamespace(IntEnum):
    PATIENT = 1  # a consumed record's key, for the whole batch's transaction
    RELAY = 2  # the one outbox relay per schema that may publish
    MIGRATION = 3  # a schema's migrations, applied by one replica at a time
    CLINIC = 4  # a clinic's shared resources (therapist capacity), after patient locks


async def limit_lock_waits(conn: "Conn", timeout_ms: int) -> None:
    """For the rest of the current transaction, give up a lock wait after `timeout_ms`."""
    await conn.execute("SELECT set_config('lock_timeout', $1, true)", f"{timeout_ms}ms")


async def lock_keys(
    conn: "Conn",
    namespace: LockNamespace,
    names: Sequence[str],
    *,
    command_timeout_s: float | None = None,
) -> None:
    """Take the transaction locks of `names` in `namespace`, in one global order.

    Two batches may hold one patient at once (two replicas around a rebalance, a timer's
    command beside a consumed batch); taking all of a batch's locks up front, always in the
    same order, makes those batches queue instead of deadlocking on each other's row locks.
    `command_timeout_s` replaces the pool's command timeout for this one statement.
    """
    if names:
        # Volatile functions in the select list run after ORDER BY: locks follow the order.
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1::int4, h) FROM "
            "(SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k) AS keys ORDER BY h",
            int(namespace),
            sorted(set(names)),
            timeout=command_timeout_s,
        )


async def try_lock_keys(conn: "Conn", namespace: LockNamespace, names: Sequence[str]) -> bool:
    """Take the transaction locks of `names` if none is held elsewhere, without waiting."""
    if not names:
        return True
    taken = await conn.fetchval(
        "SELECT bool_and(pg_try_advisory_xact_lock($1::int4, h)) FROM "
        "(SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS keys",
        int(namespace),
        sorted(set(names)),
    )
    return bool(taken)


async def lock_session(
    conn: "Conn", namespace: LockNamespace, name: str, *, retry_every_s: float = 0.5
) -> None:
    """Wait for the session lock of `name` (held until `unlock_session` or disconnect).

    Tried again every `retry_every_s` rather than waited for in one statement: a standby
    may wait for hours, and no statement may outlive the pool's command timeout.
    """
    try_lock = "SELECT pg_try_advisory_lock($1::int4, hashtext($2))"
    while True:
        if await conn.fetchval(try_lock, int(namespace), name):
            return
        await asyncio.sleep(retry_every_s)


async def unlock_session(conn: "Conn", namespace: LockNamespace, name: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1::int4, hashtext($2))", int(namespace), name)
