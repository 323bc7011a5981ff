"""Which failures are transient (retried with backoff, never skipped) (issue 11, item 9)."""

import asyncio

import asyncpg
import pytest
import structlog

from services.runtime.retry import is_transient, retry_transient


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.OutOfMemoryError("out of memory"),
        asyncpg.LockNotAvailableError("lock timeout"),
        asyncpg.CrashShutdownError("crash shutdown"),
        asyncpg.AdminShutdownError("admin shutdown"),
        asyncpg.QueryCanceledError("statement timeout"),
        asyncpg.DeadlockDetectedError("deadlock"),
        asyncpg.SerializationError("serialization"),
        asyncpg.CannotConnectNowError("starting up"),
        TimeoutError(),  # asyncpg's command_timeout
        asyncpg.InternalClientError("unexpected protocol state"),  # a crash left it broken
        ConnectionResetError(),
    ],
    ids=type,
)
def test_a_database_that_is_away_busy_or_slow_is_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CharacterNotInRepertoireError("NUL in text"),
        asyncpg.ProgramLimitExceededError("index row too large"),
        asyncpg.UniqueViolationError("duplicate"),
        asyncpg.UndefinedTableError("no table"),
        ValueError(),
        RuntimeError(),
    ],
    ids=type,
)
def test_an_error_about_the_input_or_the_code_is_not_transient(error: BaseException) -> None:
    assert not is_transient(error)


async def test_a_timed_out_statement_is_retried_until_it_succeeds() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError
        return "done"

    result = await retry_transient(flaky, log=structlog.get_logger(), first_delay_s=0.001)
    assert result == "done"
    assert len(calls) == 3


async def test_a_lasting_transient_failure_is_raised_so_the_consumer_rewinds() -> None:
    async def always_locked() -> None:
        raise asyncpg.LockNotAvailableError("lock timeout")

    with pytest.raises(asyncpg.LockNotAvailableError):
        await asyncio.wait_for(
            retry_transient(
                always_locked,
                log=structlog.get_logger(),
                give_up_after_s=0.05,
                first_delay_s=0.001,
            ),
            timeout=30,
        )
