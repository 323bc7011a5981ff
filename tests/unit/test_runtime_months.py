from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.runtime.months import add_months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 12, 20), 1, date(2027, 1, 20)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 10), -1, date(2025, 12, 10)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
        (date(2026, 8, 31), 25, date(2028, 9, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(0, 36))
def test_add_months_moves_the_month_and_never_overshoots_the_day(start, months):
    result = add_months(start, months)
    assert (result.year - start.year) * 12 + result.month - start.month == months
    assert result.day <= start.day
    clamped_to_last_day = (result + timedelta(days=1)).day == 1
    assert result.day == start.day or clamped_to_last_day
