"""Assigning one session on one day a therapist and a start.

Hard rules, never bent:
- R-ROSTER: inside one working stretch of the therapist that day (start >= from and
  start + duration <= to); nobody absent, gone or not yet rostered that day.
- R-NO-OVERLAP: clear of every booking held, turnover included (`bookings.conflict`).
- R-PT-BEFORE: with physical therapy that day the session ends no later than it starts.

A therapist is *free* that day when at least one start satisfies all three. Then, in this
order:
1. Therapist, R-CONTINUITY: the course's therapist when free; otherwise the free therapist
   with the fewest bookings that day, ties to the smallest therapist id.
2. Start, for the chosen therapist:
   - R-PT-BEFORE: the latest free start at or before (therapy start - duration), so the
     massage ends at the therapy or as close before it as possible; the preferred time
     does not count that day.
   - R-PREFERRED-TIME: the preferred time if free, else the free start nearest to it, the
     earlier of two equally near.
   - otherwise the earliest free start.
Continuity outranks the preferred time: the course's therapist at 9:20 beats another at
9:00. First come, first served: which request gets a contested slot depends on the order
of the calls; each call is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.planner.capacity.bookings import ONE_DAY, Booking, Owner
from services.planner.capacity.clock import MINUTES_PER_DAY
from services.planner.capacity.free import Starts, chosen_start, free_starts
from services.planner.capacity.policy import DEFAULT_CAPACITY_POLICY, CapacityPolicy

if TYPE_CHECKING:
    from datetime import date

    from services.planner.capacity.bookings import HeldBookings
    from services.planner.capacity.roster import Roster


@dataclass(frozen=True, slots=True)
class SessionRequest:
    owner: Owner
    on: date
    duration_min: int
    preferred_min: int | None = None  # R-PREFERRED-TIME, local minutes since midnight
    physical_therapy_min: int | None = None  # R-PT-BEFORE: the day's first therapy start
    therapist_id: str | None = None  # R-CONTINUITY: the course's therapist


@dataclass(frozen=True, slots=True)
class Assignment:
    booking: Booking
    continued: bool  # R-CONTINUITY: the course's therapist gives it


def assign_session(
    request: SessionRequest,
    roster: Roster,
    bookings: HeldBookings,
    policy: CapacityPolicy = DEFAULT_CAPACITY_POLICY,
) -> Assignment | None:
    """A therapist and start for `request`, or None when nobody is free that day."""
    if request.therapist_id is not None:
        # R-CONTINUITY: the course's therapist, when free, is chosen whoever else is.
        own = _chosen_start(request, request.therapist_id, roster, bookings, policy)
        if own is not None:
            return Assignment(_booking(request, request.therapist_id, own), continued=True)
    # The first free in the order of the choice is the one chosen: the others are not tried.
    for therapist_id in sorted(
        roster.working_on(request.on), key=lambda t: (bookings.count_on(t, request.on), t)
    ):
        if therapist_id == request.therapist_id:  # not free: tried above
            continue
        start = _chosen_start(request, therapist_id, roster, bookings, policy)
        if start is not None:
            return Assignment(_booking(request, therapist_id, start), continued=False)
    return None


def _booking(request: SessionRequest, therapist_id: str, start: int) -> Booking:
    return Booking(therapist_id, request.on, start, start + request.duration_min, request.owner)


def free_at(
    request: SessionRequest,
    start_min: int,
    roster: Roster,
    bookings: HeldBookings,
    policy: CapacityPolicy = DEFAULT_CAPACITY_POLICY,
) -> tuple[str, ...]:
    """Therapists free at exactly `start_min` that day: fewest bookings first, then by id."""
    free = [
        therapist_id
        for therapist_id in roster.working_on(request.on)
        if any(
            s.first <= start_min <= s.last
            for s in _allowed_starts(request, therapist_id, roster, bookings, policy)
        )
    ]
    return tuple(sorted(free, key=lambda t: (bookings.count_on(t, request.on), t)))


def _allowed_starts(
    request: SessionRequest,
    therapist_id: str,
    roster: Roster,
    bookings: HeldBookings,
    policy: CapacityPolicy,
) -> tuple[Starts, ...]:
    stretches = roster.stretches_on(therapist_id, request.on)
    if not stretches:  # not working that day: no need to look at the bookings
        return ()
    busy = _busy(request, therapist_id, bookings, policy.turnover_min)
    starts = free_starts(stretches, busy, request.duration_min, policy.turnover_min)
    if request.physical_therapy_min is None:
        return starts
    bound = request.physical_therapy_min - request.duration_min
    return tuple(Starts(s.first, min(s.last, bound)) for s in starts if s.first <= bound)


def _chosen_start(
    request: SessionRequest,
    therapist_id: str,
    roster: Roster,
    bookings: HeldBookings,
    policy: CapacityPolicy,
) -> int | None:
    """The start the therapist would be given (R-PT-BEFORE, else R-PREFERRED-TIME, else the
    earliest), or None when not free: `_allowed_starts` chosen from, without building them
    (this runs for every session placed)."""
    stretches = roster.stretches_on(therapist_id, request.on)
    if not stretches:
        return None
    busy = _busy(request, therapist_id, bookings, policy.turnover_min)
    therapy = request.physical_therapy_min
    return chosen_start(
        stretches, busy, request.duration_min, policy.turnover_min,
        nearest_to=request.preferred_min,
        latest_until=None if therapy is None else therapy - request.duration_min,
    )  # fmt: skip


def _busy(
    request: SessionRequest, therapist_id: str, bookings: HeldBookings, turnover: int
) -> list[tuple[int, int]]:
    """[start, end) of the therapist's bookings that may forbid a start that day, in minutes
    from its midnight and sorted by start: `Booking.span_from(day)` of the bookings `near`
    the day, inlined. Of the neighbours' bookings only those whose turnover reaches into the
    day can forbid a start (`free_starts` gives the same for the others kept or not): the
    day before's last one (a therapist's bookings of a day end in the order they start)
    and the day after's first one tell whether any can."""
    day, session_id = request.on, request.owner.session_id
    busy = []
    before = bookings.on(therapist_id, day - ONE_DAY)
    if before and before[-1].end_min + turnover > MINUTES_PER_DAY:
        busy += [
            (booking.start_min - MINUTES_PER_DAY, booking.end_min - MINUTES_PER_DAY)
            for booking in before
            if booking.end_min + turnover > MINUTES_PER_DAY
            and booking.owner.session_id != session_id
        ]
    busy += [
        (booking.start_min, booking.end_min)
        for booking in bookings.on(therapist_id, day)
        if booking.owner.session_id != session_id
    ]
    after = bookings.on(therapist_id, day + ONE_DAY)
    if after and after[0].start_min < turnover:
        busy += [
            (booking.start_min + MINUTES_PER_DAY, booking.end_min + MINUTES_PER_DAY)
            for booking in after
            if booking.start_min < turnover and booking.owner.session_id != session_id
        ]
    return busy
