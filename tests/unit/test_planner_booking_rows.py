"""Bookings between the core's wall-clock minutes and the database's instants: the epoch
seconds `booking_rows.rewrite` sends, read back as `to_timestamp` reads them."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.planner.booking_rows import booking_of
from services.planner.capacity.bookings import Booking, Owner
from services.planner.capacity.clock import epoch_second_at

BERLIN = ZoneInfo("Europe/Berlin")
OWNER = Owner("P1", "C1", "S1")


def sent(day: date, minute: int) -> datetime:
    """A wall-clock minute as the bookings statement sends it and the database reads it."""
    return datetime.fromtimestamp(epoch_second_at(day, minute, BERLIN), UTC)


@pytest.mark.parametrize(
    "on", [date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 23)]
)
@pytest.mark.parametrize(("start_min", "end_min"), [(540, 555), (0, 15), (1425, 1440)])
def test_a_booking_survives_the_round_trip_through_instants(
    on: date, start_min: int, end_min: int
) -> None:
    booking = Booking("T1", on, start_min, end_min, OWNER)
    assert booking_of(OWNER, "T1", sent(on, start_min), sent(on, end_min), BERLIN) == booking


def test_wall_clock_nine_is_nine_on_either_side_of_a_daylight_saving_change() -> None:
    winter, summer = sent(date(2026, 3, 28), 540), sent(date(2026, 3, 30), 540)
    assert winter == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert summer == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
