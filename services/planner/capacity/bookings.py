"""R-NO-OVERLAP: the bookings a clinic holds, and when two of them conflict.

Two bookings of one therapist conflict iff [s1, e1 + turnover) and [s2, e2 + turnover)
overlap: the rule the database enforces with
`EXCLUDE USING gist (therapist_id WITH =, tstzrange(starts_at, ends_at + turnover) WITH &&)`.
Minutes are counted across midnight (a booking ending 23:58 keeps its therapist until
00:03 the next day), as the database counts instants. Wall-clock minutes and instants
differ only for a booking that spans a daylight-saving change, at night; there the
database's constraint remains the guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from services.planner.capacity.clock import MINUTES_PER_DAY

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

ONE_DAY = timedelta(days=1)


class OverlapError(ValueError):
    """A booking that R-NO-OVERLAP forbids; assignment never produces one."""


@dataclass(frozen=True, slots=True, order=True)
class Owner:
    patient_id: str
    course_id: str
    session_id: str


@dataclass(frozen=True, slots=True)
class Booking:
    therapist_id: str
    on: date
    start_min: int  # local wall-clock minutes since midnight
    end_min: int
    owner: Owner

    def __post_init__(self) -> None:
        if not 0 <= self.start_min < self.end_min <= MINUTES_PER_DAY:
            raise ValueError(f"not a booking within a day: {self.start_min}-{self.end_min}")

    @property
    def duration_min(self) -> int:
        return self.end_min - self.start_min

    def span_from(self, day: date) -> tuple[int, int]:
        """[start, end) in minutes from `day`'s midnight."""
        offset = (self.on - day).days * MINUTES_PER_DAY
        return (offset + self.start_min, offset + self.end_min)


def conflict(first: Booking, second: Booking, turnover_min: int) -> bool:
    if first.therapist_id != second.therapist_id:
        return False
    start1, end1 = first.span_from(first.on)
    start2, end2 = second.span_from(first.on)
    return start1 < end2 + turnover_min and start2 < end1 + turnover_min


@dataclass(frozen=True, slots=True)
class Bookings:
    """The bookings held, indexed by therapist and day and by session. Never mutated."""

    by_day: Mapping[tuple[str, date], tuple[Booking, ...]] = field(default_factory=dict)
    by_session: Mapping[str, Booking] = field(default_factory=dict)

    @classmethod
    def of(cls, bookings: Iterable[Booking]) -> Bookings:
        held = cls()
        for booking in bookings:
            held = held.adding(booking)
        return held

    def __iter__(self) -> Iterator[Booking]:
        return iter(sorted(self.by_session.values(), key=_order))

    def __len__(self) -> int:
        return len(self.by_session)

    def on(self, therapist_id: str, day: date) -> tuple[Booking, ...]:
        """The therapist's bookings of `day`, by start."""
        return self.by_day.get((therapist_id, day), ())

    def near(self, therapist_id: str, day: date) -> tuple[Booking, ...]:
        """Bookings that may reach into `day` with their turnover: the day and both neighbours."""
        return tuple(
            booking
            for neighbour in (day - ONE_DAY, day, day + ONE_DAY)
            for booking in self.on(therapist_id, neighbour)
        )

    def of_therapist(self, therapist_id: str, from_on: date) -> tuple[Booking, ...]:
        """The therapist's bookings on `from_on` and later, by day and start."""
        days = sorted(day for t, day in self.by_day if t == therapist_id and day >= from_on)
        return tuple(booking for day in days for booking in self.on(therapist_id, day))

    def count_on(self, therapist_id: str, day: date) -> int:
        return len(self.on(therapist_id, day))

    def of_session(self, session_id: str) -> Booking | None:
        return self.by_session.get(session_id)

    def conflicts_with(self, booking: Booking, turnover_min: int) -> tuple[Booking, ...]:
        return tuple(
            held
            for held in self.near(booking.therapist_id, booking.on)
            if held.owner != booking.owner and conflict(held, booking, turnover_min)
        )

    def adding(self, booking: Booking) -> Bookings:
        """These bookings and `booking` (replacing the session's earlier booking, if any)."""
        held = self.without(booking.owner.session_id)
        key = (booking.therapist_id, booking.on)
        by_day = dict(held.by_day)
        by_day[key] = tuple(sorted([*held.on(*key), booking], key=_order))
        return Bookings(by_day, {**held.by_session, booking.owner.session_id: booking})

    def book(self, booking: Booking, turnover_min: int) -> Bookings:
        """`adding`, guarded: raises OverlapError rather than hold an overlap."""
        if clashes := self.conflicts_with(booking, turnover_min):
            raise OverlapError(f"{booking.owner.session_id} overlaps {clashes[0].owner.session_id}")
        return self.adding(booking)

    def without(self, session_id: str) -> Bookings:
        booking = self.by_session.get(session_id)
        if booking is None:
            return self
        key = (booking.therapist_id, booking.on)
        by_day = dict(self.by_day)
        remaining = tuple(b for b in by_day.pop(key) if b.owner.session_id != session_id)
        if remaining:
            by_day[key] = remaining
        by_session = dict(self.by_session)
        del by_session[session_id]
        return Bookings(by_day, by_session)


def _order(booking: Booking) -> tuple[date, str, int, str]:
    return (booking.on, booking.therapist_id, booking.start_min, booking.owner.session_id)
