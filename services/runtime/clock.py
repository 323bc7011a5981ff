"""The one source of "now": injectable, so tests can let days pass without waiting for them."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from services.runtime.decider import Context


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SystemClock:
    """The real clock; `offset_days` lets a demo or an end-to-end test live a few days ahead."""

    offset_days: int = 0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.offset_days)


def local_date(moment: datetime, timezone: str) -> date:
    """The clinic-local calendar date of a moment: decisions are per clinic day, not per UTC day."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_today(clock: Clock, timezone: str) -> date:
    return local_date(clock.now(), timezone)


def clinic_context(clock: Clock, timezone: str) -> Callable[[], Context]:
    """What a Decider may know of time when it decides: the clinic's day and the moment."""

    def context() -> Context:
        now = clock.now()
        return Context(today=local_date(now, timezone), now=now)

    return context
