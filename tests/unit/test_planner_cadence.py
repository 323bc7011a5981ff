"""R-CADENCE and R-DURATION-RAMP on their own."""

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from services.planner.cadence import Cadence, session_dates
from services.planner.calendar import ClinicCalendar
from services.planner.policy import PlannerPolicy
from services.planner.ramp import ramp_minutes
from tests.unit.test_planner_support import BERLIN, MONDAY

DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 12, 31))
CALENDARS = st.builds(
    lambda weekdays, holidays: ClinicCalendar(
        "Europe/Berlin", frozenset(weekdays), frozenset(holidays)
    ),
    st.sets(st.integers(0, 6), min_size=1),
    st.sets(DAYS, max_size=30),
)


def test_r_cadence_every_other_day_from_a_monday_skips_sunday() -> None:
    dates = session_dates(MONDAY, 6, Cadence.EVERY_OTHER_DAY, BERLIN)
    assert [d.day for d in dates] == [2, 4, 6, 9, 11, 13]


def test_r_cadence_daily_skips_sunday_and_holidays() -> None:
    dates = session_dates(date(2026, 12, 23), 4, Cadence.DAILY, BERLIN)
    assert dates == (date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29))


@given(DAYS, st.integers(1, 25), st.sampled_from(Cadence), CALENDARS)
def test_r_cadence_open_days_only_with_exact_shift_rule(
    start: date, count: int, cadence: Cadence, calendar: ClinicCalendar
) -> None:
    dates = session_dates(start, count, cadence, calendar)
    assert len(dates) == count
    assert all(calendar.is_open(d) for d in dates)
    assert dates[0] == calendar.next_open_on_or_after(start)
    for before, after in pairwise(dates):
        assert (after - before) >= cadence.step
        # the cadence continues from where the previous session actually fell
        assert after == calendar.next_open_on_or_after(before + cadence.step)
        closed_between = [
            before + timedelta(days=n) for n in range(cadence.step.days, (after - before).days)
        ]
        assert not any(calendar.is_open(d) for d in closed_between)


def test_r_duration_ramp_seven_to_fifteen_then_fifteen() -> None:
    assert [ramp_minutes(n) for n in range(12)] == [7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15, 15]


@given(st.integers(0, 100))
def test_r_duration_ramp_bounds(position: int) -> None:
    assert 7 <= ramp_minutes(position) <= 15
    assert ramp_minutes(position + 1) >= ramp_minutes(position)


def test_r_duration_ramp_policy_is_a_setting() -> None:
    policy = PlannerPolicy(ramp_start_min=5, ramp_step_min=2, ramp_cap_min=10)
    assert [ramp_minutes(n, policy) for n in range(5)] == [5, 7, 9, 10, 10]
