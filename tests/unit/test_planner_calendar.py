"""ClinicCalendar: open days, holidays, calendar months and wall-clock time across DST."""

from datetime import date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.planner.calendar import ClinicCalendar, add_months
from tests.unit.test_planner_support import BERLIN

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
WALL_CLOCK = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def test_monday_to_saturday_open_by_default_sunday_and_holidays_closed() -> None:
    assert BERLIN.is_open(date(2026, 11, 2))
    assert BERLIN.is_open(date(2026, 11, 7))
    assert not BERLIN.is_open(date(2026, 11, 8))
    assert not BERLIN.is_open(date(2026, 12, 25))
    assert BERLIN.next_open_on_or_after(date(2026, 12, 25)) == date(2026, 12, 28)
    assert BERLIN.next_open_after(date(2026, 11, 7)) == date(2026, 11, 9)
    assert BERLIN.next_open_on_or_after(date(2026, 11, 7)) == date(2026, 11, 7)


def test_calendar_month_is_added_the_calendar_way() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


@given(DAYS, st.sets(DAYS, max_size=20))
def test_next_open_day_is_open_and_nothing_open_is_skipped(day: date, holidays: set[date]) -> None:
    calendar = ClinicCalendar("Europe/Berlin", holidays=frozenset(holidays))
    found = calendar.next_open_on_or_after(day)
    assert calendar.is_open(found)
    assert found >= day
    assert not any(calendar.is_open(day + timedelta(days=n)) for n in range((found - day).days))


@given(DAYS, WALL_CLOCK, st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]))
def test_dst_changes_keep_wall_clock_or_move_a_gap_time_forward(
    day: date, wall: time, zone: str
) -> None:
    calendar = ClinicCalendar(zone)
    shift = calendar.local_wall_clock(calendar.at(day, wall)) - datetime.combine(day, wall)
    assert shift == timedelta(0) or timedelta(0) < shift <= timedelta(hours=1)


def test_berlin_last_sunday_of_march_and_october_keep_nine_o_clock() -> None:
    for day in (date(2026, 3, 28), date(2026, 3, 30), date(2026, 10, 24), date(2026, 10, 26)):
        assert BERLIN.local_wall_clock(BERLIN.at(day, time(9))).time() == time(9)
    assert BERLIN.at(date(2026, 3, 27), time(9)).utcoffset() == timedelta(hours=1)
    assert BERLIN.at(date(2026, 3, 30), time(9)).utcoffset() == timedelta(hours=2)
    assert BERLIN.at(date(2026, 10, 26), time(9)).utcoffset() == timedelta(hours=1)


def test_nonexistent_time_moves_forward_and_ambiguous_takes_first() -> None:
    assert BERLIN.at(date(2026, 3, 29), time(2, 30)).isoformat() == "2026-03-29T03:30:00+02:00"
    assert BERLIN.at(date(2026, 10, 25), time(2, 30)).isoformat() == "2026-10-25T02:30:00+02:00"
