"""Transient failures (the database or broker away for a while) are retried, never skipped."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,  # asyncpg's command_timeout; an OSError too, named for the reader
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # The driver's own "unexpected state": seen on a pooled connection a crash left behind.
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.OutOfMemoryError,
    asyncpg.LockNotAvailableError,  # lock_timeout: the holder may be slow, not the input bad
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


async def retry_transient(
    attempt: Callable[[], Awaitable[T]],
    *,
    log: Any,
    give_up_after_s: float = 60.0,
    first_delay_s: float = 0.1,
    max_delay_s: float = 5.0,
) -> T:
    """Retry with exponential backoff; after `give_up_after_s` re-raise so the caller rewinds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after_s
    delay = first_delay_s
    while True:
        try:
            return await attempt()
        except TRANSIENT_ERRORS as exc:
            if loop.time() + delay > deadline:
                raise
            log.warning("transient failure; retrying", error=type(exc).__name__, retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
