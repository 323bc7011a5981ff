"""Calendar-month arithmetic on dates (R-RHEUM-WAIT, R-COURSE-BREAK, R-COURSES-PER-YEAR)."""

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """Add calendar months the calendar way: 31 Jan + 1 month = 28/29 Feb (clamped)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month_zero_based = divmod(month_index, 12)
    month = month_zero_based + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))
