"""Calendar arithmetic on clinic-local dates."""

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Add calendar months the calendar way: 31 Jan + 1 month = 28/29 Feb (clamped)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month_zero_based = divmod(month_index, 12)
    month = month_zero_based + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def day_after(day: date) -> date:
    return day + timedelta(days=1)
