"""The clinic's calendar: open days, holidays and local wall-clock time.

Wall-clock times are kept across daylight-saving changes: 09:00 stays 09:00 local.
Local times that do not exist (spring-forward gap) move forward by the length of the gap
(02:30 in Europe/Berlin on the last Sunday of March becomes 03:30); ambiguous local times
(autumn fall-back) take the first occurrence (fold=0, the earlier instant). Both choices
are deterministic, so replays give identical datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.runtime.clock import local_date

MONDAY_TO_SATURDAY = frozenset(range(6))
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ClinicCalendar:
    time_zone: str
    open_weekdays: frozenset[int] = MONDAY_TO_SATURDAY
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.open_weekdays and day not in self.holidays

    def next_open_on_or_after(self, day: date) -> date:
        if not self.open_weekdays:
            raise ValueError("a clinic calendar needs at least one open weekday")
        while not self.is_open(day):
            day += ONE_DAY
        return day

    def next_open_after(self, day: date) -> date:
        return self.next_open_on_or_after(day + ONE_DAY)

    def local_date(self, moment: datetime) -> date:
        return local_date(moment, self.time_zone)

    def local_wall_clock(self, moment: datetime) -> datetime:
        """The naive local wall-clock reading of an aware moment."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def at(self, day: date, wall_clock: time) -> datetime:
        return self.from_wall_clock(datetime.combine(day, wall_clock))

    def from_wall_clock(self, wall_clock: datetime) -> datetime:
        """Aware datetime for a naive local reading; gaps move forward, folds take the first."""
        candidate = wall_clock.replace(tzinfo=self.zone, fold=0)
        round_trip = candidate.astimezone(UTC).astimezone(self.zone)
        if round_trip.replace(tzinfo=None) == wall_clock:
            return round_trip
        # Inside a spring-forward gap: of the two offsets, take the reading after the gap,
        # i.e. the wall clock shifted forward by the gap's length.
        later = wall_clock.replace(tzinfo=self.zone, fold=1).astimezone(UTC).astimezone(self.zone)
        return max(round_trip, later)
