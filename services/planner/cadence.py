"""R-CADENCE: daily or every other day, on open days only, continuing from any shift."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.planner.calendar import ClinicCalendar


_ONE_DAY, _TWO_DAYS = timedelta(days=1), timedelta(days=2)


class Cadence(StrEnum):
    DAILY = "daily"
    EVERY_OTHER_DAY = "every_other_day"

    @property
    def step(self) -> timedelta:
        """Days from one session to the earliest next one ("one free day between")."""
        return _ONE_DAY if self is Cadence.DAILY else _TWO_DAYS


def next_session_date(previous: date, cadence: Cadence, calendar: ClinicCalendar) -> date:
    """The cadence continues from the day a session actually fell on."""
    return calendar.next_open_on_or_after(previous + cadence.step)


def session_dates(
    start: date, count: int, cadence: Cadence, calendar: ClinicCalendar
) -> tuple[date, ...]:
    dates: list[date] = []
    day = calendar.next_open_on_or_after(start)
    for _ in range(count):
        dates.append(day)
        day = next_session_date(day, cadence, calendar)
    return tuple(dates)
