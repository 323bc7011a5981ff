"""R-CADENCE: daily or every other day, on open days only, continuing from any shift."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.planner.calendar import ClinicCalendar


class Cadence(StrEnum):
    DAILY = "daily"
    EVERY_OTHER_DAY = "every_other_day"

    @property
    def step(self) -> timedelta:
        """Days from one session to the earliest next one ("one free day between")."""
        return timedelta(days=1 if self is Cadence.DAILY else 2)


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
