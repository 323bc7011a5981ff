"""R-NO-OVERLAP: the bookings a clinic holds, and when two of them conflict.

Two bookings of one therapist conflict iff [s1, e1 + turnover) and [s2, e2 + turnover)
overlap: the rule the database enforces on the multiranges of those spans, a row per course
and therapist (`EXCLUDE USING gist (clinic_id WITH =, therapist_id WITH =, busy WITH &&)`,
and within a row a check that no two spans merged; migration 0010).
Minutes are counted across midnight (a booking ending 23:58 keeps its therapist until
00:03 the next day), as the database counts instants. Wall-clock minutes and instants
differ only for a booking that spans a daylight-saving change, at night; there the
database's constraint remains the guard.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Protocol

from services.planner.capacity.clock import MINUTES_PER_DAY

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

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


# A clinic holds hundreds of bookings and a course's placement changes them one at a time:
# the session index is kept in shards, so that a change copies one shard, not all of them.
SHARDS = 32
Shards = tuple[Mapping[str, "Booking"], ...]


def _shard(session_id: str) -> int:
    return hash(session_id) % SHARDS


def _no_shards() -> Shards:
    return ({},) * SHARDS


@dataclass(frozen=True, slots=True)
class Bookings:
    """The bookings held, indexed by therapist and day and by session. Never mutated."""

    by_day: Mapping[tuple[str, date], tuple[Booking, ...]] = field(default_factory=dict)
    by_session: Shards = field(default_factory=_no_shards)  # each session in its `_shard`

    @classmethod
    def of(cls, bookings: Iterable[Booking]) -> Bookings:
        """As `adding` each in turn (a session's last booking holds), built at once."""
        latest: dict[str, Booking] = {}
        for booking in bookings:
            latest[booking.owner.session_id] = booking
        shards: list[dict[str, Booking]] = [{} for _ in range(SHARDS)]
        days: dict[tuple[str, date], list[Booking]] = {}
        for session_id, booking in latest.items():
            shards[_shard(session_id)][session_id] = booking
            days.setdefault((booking.therapist_id, booking.on), []).append(booking)
        by_day = {key: tuple(sorted(held, key=_order)) for key, held in days.items()}
        return cls(by_day, tuple(shards))

    def __iter__(self) -> Iterator[Booking]:
        held = (booking for shard in self.by_session for booking in shard.values())
        return iter(sorted(held, key=_order))

    def __len__(self) -> int:
        return sum(len(shard) for shard in self.by_session)

    def on(self, therapist_id: str, day: date) -> tuple[Booking, ...]:
        """The therapist's bookings of `day`, by start."""
        return self.by_day.get((therapist_id, day), ())

    def near(self, therapist_id: str, day: date) -> tuple[Booking, ...]:
        """Bookings that may reach into `day` with their turnover: the day and both neighbours."""
        return _near(self.by_day, therapist_id, day)

    def of_therapist(self, therapist_id: str, from_on: date) -> tuple[Booking, ...]:
        """The therapist's bookings on `from_on` and later, by day and start."""
        days = sorted(day for t, day in self.by_day if t == therapist_id and day >= from_on)
        return tuple(booking for day in days for booking in self.on(therapist_id, day))

    def count_on(self, therapist_id: str, day: date) -> int:
        return len(self.on(therapist_id, day))

    def of_session(self, session_id: str) -> Booking | None:
        return self.by_session[_shard(session_id)].get(session_id)

    def conflicts_with(self, booking: Booking, turnover_min: int) -> tuple[Booking, ...]:
        return _clashes(self.by_day, booking, turnover_min)

    def adding(self, booking: Booking) -> Bookings:
        """These bookings and `booking` (replacing the session's earlier booking, if any)."""
        held = self.without(booking.owner.session_id)
        key = (booking.therapist_id, booking.on)
        by_day = dict(held.by_day)
        by_day[key] = _inserted(held.on(*key), booking)
        index = _shard(booking.owner.session_id)
        shard = {**held.by_session[index], booking.owner.session_id: booking}
        return Bookings(by_day, _replaced(held.by_session, index, shard))

    def book(self, booking: Booking, turnover_min: int) -> Bookings:
        """`adding`, guarded: raises OverlapError rather than hold an overlap."""
        if clashes := self.conflicts_with(booking, turnover_min):
            raise OverlapError(f"{booking.owner.session_id} overlaps {clashes[0].owner.session_id}")
        return self.adding(booking)

    def changed(self, freed: Iterable[str], booked: Iterable[Booking]) -> Bookings:
        """`without` each of `freed` and of the sessions `booked`, then `adding` each of
        `booked` in turn, in one copy."""
        booked = tuple(booked)
        gone = {*freed, *(booking.owner.session_id for booking in booked)}
        if not gone:
            return self
        latest = {booking.owner.session_id: booking for booking in booked}
        shards: list[Mapping[str, Booking]] = list(self.by_session)
        copies: dict[int, dict[str, Booking]] = {}

        def own(index: int) -> dict[str, Booking]:
            if index not in copies:
                shards[index] = copies[index] = dict(shards[index])
            return copies[index]

        days: set[tuple[str, date]] = set()
        for session_id in gone:
            old = shards[_shard(session_id)].get(session_id)
            if old is not None:
                del own(_shard(session_id))[session_id]
                days.add((old.therapist_id, old.on))
        added: dict[tuple[str, date], list[Booking]] = {}
        for session_id, booking in latest.items():
            own(_shard(session_id))[session_id] = booking
            added.setdefault((booking.therapist_id, booking.on), []).append(booking)
        by_day = dict(self.by_day)
        for key in days | set(added):
            kept = [b for b in self.by_day.get(key, ()) if b.owner.session_id not in gone]
            held = tuple(sorted([*kept, *added.get(key, ())], key=_order))
            if held:
                by_day[key] = held
            else:
                by_day.pop(key, None)
        return Bookings(by_day, tuple(shards))

    def without(self, session_id: str) -> Bookings:
        index = _shard(session_id)
        booking = self.by_session[index].get(session_id)
        if booking is None:
            return self
        key = (booking.therapist_id, booking.on)
        by_day = dict(self.by_day)
        remaining = tuple(b for b in by_day.pop(key) if b.owner.session_id != session_id)
        if remaining:
            by_day[key] = remaining
        shard = dict(self.by_session[index])
        del shard[session_id]
        return Bookings(by_day, _replaced(self.by_session, index, shard))


class HeldBookings(Protocol):
    """What assignment reads of the bookings held: `Bookings`, or a placement's `Draft`."""

    def on(self, therapist_id: str, day: date) -> tuple[Booking, ...]: ...

    def count_on(self, therapist_id: str, day: date) -> int: ...


class Draft:
    """A working copy of `Bookings` for one course's placement, changed in place: its own
    copy of the day index, made once, and of each session shard it changes (a placement
    frees and books a session at a time, often a dozen). `bookings()` gives the result."""

    __slots__ = ("_by_day", "_by_session", "_done", "_owned")

    def __init__(self, base: Bookings) -> None:
        self._by_day = dict(base.by_day)
        self._by_session: list[Mapping[str, Booking]] = list(base.by_session)
        self._owned: dict[int, dict[str, Booking]] = {}  # the shards copied so far
        self._done = False

    def on(self, therapist_id: str, day: date) -> tuple[Booking, ...]:
        return self._by_day.get((therapist_id, day), ())

    def near(self, therapist_id: str, day: date) -> tuple[Booking, ...]:
        return _near(self._by_day, therapist_id, day)

    def count_on(self, therapist_id: str, day: date) -> int:
        return len(self.on(therapist_id, day))

    def of_session(self, session_id: str) -> Booking | None:
        return self._by_session[_shard(session_id)].get(session_id)

    def without(self, session_id: str) -> None:
        """As `Bookings.without`."""
        booking = self.of_session(session_id)
        if booking is None:
            return
        shard = self._shard(session_id)  # first: a draft that is done raises before any change
        key = (booking.therapist_id, booking.on)
        remaining = [b for b in self._by_day.pop(key) if b.owner.session_id != session_id]
        if remaining:
            self._by_day[key] = tuple(remaining)
        del shard[session_id]

    def adding(self, booking: Booking) -> None:
        """As `Bookings.adding`."""
        session_id = booking.owner.session_id
        self.without(session_id)
        shard = self._shard(session_id)
        key = (booking.therapist_id, booking.on)
        self._by_day[key] = _inserted(self.on(*key), booking)
        shard[session_id] = booking

    def book(self, booking: Booking, turnover_min: int) -> None:
        """As `Bookings.book`."""
        if clashes := _clashes(self._by_day, booking, turnover_min):
            raise OverlapError(f"{booking.owner.session_id} overlaps {clashes[0].owner.session_id}")
        self.adding(booking)

    def bookings(self) -> Bookings:
        """The bookings as changed; they take over the draft's indexes, so it is done."""
        self._done = True
        return Bookings(self._by_day, tuple(self._by_session))

    def _shard(self, session_id: str) -> dict[str, Booking]:
        if self._done:
            raise RuntimeError("a draft is not changed after its bookings() were taken")
        index = _shard(session_id)
        if index not in self._owned:
            self._by_session[index] = self._owned[index] = dict(self._by_session[index])
        return self._owned[index]


def _near(
    by_day: Mapping[tuple[str, date], tuple[Booking, ...]], therapist_id: str, day: date
) -> tuple[Booking, ...]:
    return (
        by_day.get((therapist_id, day - ONE_DAY), ())
        + by_day.get((therapist_id, day), ())
        + by_day.get((therapist_id, day + ONE_DAY), ())
    )


def _clashes(
    by_day: Mapping[tuple[str, date], tuple[Booking, ...]], booking: Booking, turnover_min: int
) -> tuple[Booking, ...]:
    """As `conflict` with each booking `near` the booking's day, its arithmetic inlined (a
    placement's guard runs for every session it books). A neighbour's booking can only clash
    across midnight: the day before's when the booking starts within the turnover of
    midnight, the day after's when its own turnover reaches past it."""
    therapist_id, day = booking.therapist_id, booking.on
    start, end, owner = booking.start_min, booking.end_min, booking.owner
    reach = end + turnover_min
    clashes: list[Booking] = []
    if start < turnover_min:
        clashes += [
            held
            for held in by_day.get((therapist_id, day - ONE_DAY), ())
            if start < held.end_min - MINUTES_PER_DAY + turnover_min and held.owner != owner
        ]
    clashes += [
        held
        for held in by_day.get((therapist_id, day), ())
        if held.start_min < reach and start < held.end_min + turnover_min and held.owner != owner
    ]
    if reach > MINUTES_PER_DAY:
        clashes += [
            held
            for held in by_day.get((therapist_id, day + ONE_DAY), ())
            if held.start_min + MINUTES_PER_DAY < reach and held.owner != owner
        ]
    return tuple(clashes)


def _inserted(held: tuple[Booking, ...], booking: Booking) -> tuple[Booking, ...]:
    """A therapist's day, as `_order` sorts it, with `booking` added (after any equal)."""
    at = bisect_right(held, _in_day(booking), key=_in_day)
    return (*held[:at], booking, *held[at:])


def _replaced(shards: Shards, index: int, shard: Mapping[str, Booking]) -> Shards:
    return (*shards[:index], shard, *shards[index + 1 :])


def _order(booking: Booking) -> tuple[date, str, int, str]:
    return (booking.on, booking.therapist_id, booking.start_min, booking.owner.session_id)


def _in_day(booking: Booking) -> tuple[int, str]:
    """`_order` among the bookings of one therapist and day."""
    return (booking.start_min, booking.owner.session_id)
