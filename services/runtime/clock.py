"""The one source of "now": injectable, so tests can let days pass without waiting for them."""

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def local_today(clock: Clock, timezone: str) -> date:
    """The clinic-local calendar date: decisions are per clinic day, not per UTC day."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()
