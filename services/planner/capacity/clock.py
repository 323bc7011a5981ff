"""Local wall-clock times of day as minutes since midnight.

Minutes make the interval arithmetic of assignment exact and cheap; `time` cannot say
24:00, the end of a stretch that lasts until midnight.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def minute_of_day(wall_clock: time) -> int:
    return wall_clock.hour * 60 + wall_clock.minute


def wall_clock(minute: int) -> time:
    if not 0 <= minute < MINUTES_PER_DAY:
        raise ValueError(f"{minute} is not a minute of a day")
    return time(*divmod(minute, 60))


def parse_wall_clock(text: str) -> int:
    """Minutes of an "HH:MM" reading (the wire's `LocalTime`)."""
    hours, minutes = text.split(":")
    return minute_of_day(time(int(hours), int(minutes)))


# Cached: a clinic's sessions fall on a few thousand (day, minute) pairs, and each is shown
# in every event of its course and written with every booking of it (a datetime is
# immutable, so one may be shared).
@lru_cache(maxsize=8192)
def instant_at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant of local wall-clock `minute` of `day` (24 * 60: the next midnight):
    wall-clock arithmetic in `zone`, as `ClinicCalendar` keeps wall-clock times."""
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minute)


@lru_cache(maxsize=8192)
def epoch_second_at(day: date, minute: int, zone: ZoneInfo) -> int:
    """`instant_at` in whole seconds since the epoch."""
    return int(instant_at(day, minute, zone).timestamp())
