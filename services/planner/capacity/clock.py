"""Local wall-clock times of day as minutes since midnight.

Minutes make the interval arithmetic of assignment exact and cheap; `time` cannot say
24:00, the end of a stretch that lasts until midnight.
"""

from __future__ import annotations

from datetime import time

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
