"""Shared helpers for the capacity core tests: rosters, bookings, invariants (no tests here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from services.planner.capacity.bookings import Booking, Bookings, OverlapError, Owner, conflict
from services.planner.capacity.clock import MINUTES_PER_DAY, minute_of_day
from services.planner.capacity.roster import (
    Absent,
    Left,
    Roster,
    Rostered,
    StaffFact,
    Stamp,
    Stretch,
    WeeklyStretch,
)

if TYPE_CHECKING:
    from services.planner.capacity.assign import SessionRequest
    from services.planner.capacity.policy import CapacityPolicy

MONDAY = date(2026, 11, 2)
SENT = datetime(2026, 10, 1, 8, tzinfo=UTC)
THERAPISTS = ("t-anna", "t-ben", "t-cora", "t-dan", "t-eva")
# The properties that check against the minute-by-minute oracle take their time.
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hm(hour: int, minute: int = 0) -> int:
    return minute_of_day(time(hour, minute))


def stamp(seconds: int = 0, event_id: str = "e") -> Stamp:
    return Stamp(SENT + timedelta(seconds=seconds), event_id)


def weekdays(
    start: int, end: int, days: range = range(6), *, breaks: tuple[int, int] | None = None
) -> tuple[WeeklyStretch, ...]:
    """The same hours on each of `days` (Monday to Saturday unless told)."""
    stretches = [Stretch(start, end)]
    if breaks is not None:
        stretches = [Stretch(start, breaks[0]), Stretch(breaks[1], end)]
    return tuple(WeeklyStretch(day, stretch) for day in days for stretch in stretches)


def rostered(
    therapist_id: str,
    hours: tuple[WeeklyStretch, ...],
    effective_from: date = date(2026, 1, 5),
    sent: Stamp | None = None,
) -> Rostered:
    return Rostered(therapist_id, hours, effective_from, sent or stamp(event_id=therapist_id))


def owner(n: int, course: str | None = None) -> Owner:
    course_id = course or f"c{n}"
    return Owner(f"p-{course_id}", course_id, f"{course_id}-s{n:02d}")


# --- strategies -------------------------------------------------------------------------

DAYS = st.dates(min_value=MONDAY, max_value=MONDAY + timedelta(days=20))
STAMPS = st.builds(
    Stamp,
    st.integers(0, 3).map(lambda seconds: SENT + timedelta(seconds=seconds)),
    st.sampled_from(["e1", "e2", "e3"]),
)


@st.composite
def stretches(draw: st.DrawFn) -> Stretch:
    start = draw(st.integers(hm(6), hm(16)).map(lambda m: m - m % 5))
    length = draw(st.integers(30, 8 * 60).map(lambda m: m - m % 5))
    return Stretch(start, min(start + length, hm(23, 59)))


@st.composite
def weekly_hours(draw: st.DrawFn) -> tuple[WeeklyStretch, ...]:
    pairs = draw(st.lists(st.tuples(st.integers(0, 6), stretches()), min_size=1, max_size=8))
    return tuple(WeeklyStretch(day, stretch) for day, stretch in pairs)


def staff_facts(therapists: tuple[str, ...]) -> st.SearchStrategy[StaffFact]:
    therapist = st.sampled_from(therapists)
    rosters = st.builds(
        Rostered,
        therapist,
        weekly_hours(),
        st.sampled_from([MONDAY - timedelta(7), MONDAY, MONDAY + timedelta(4)]),
        STAMPS,
    )
    absences = st.builds(
        lambda t, day, days: Absent(t, day, day + timedelta(days=days)),
        therapist,
        DAYS,
        st.integers(0, 4),
    )
    leavings = st.builds(Left, therapist, DAYS, STAMPS)
    return st.one_of(rosters, rosters, absences, leavings)


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    """1-5 therapists, every one with some hours, some absences or a last day."""
    count = draw(st.integers(1, 5))
    therapists = THERAPISTS[:count]
    facts: list[StaffFact] = [
        Rostered(t, draw(weekly_hours()), MONDAY - timedelta(days=7), stamp(event_id=t))
        for t in therapists
    ]
    facts += draw(st.lists(staff_facts(therapists), max_size=6))
    return Roster.from_facts(facts)


@st.composite
def held_bookings(
    draw: st.DrawFn, roster: Roster, turnover: int, days: range = range(-1, 2), count: int = 25
) -> Bookings:
    """Random bookings of other patients that respect R-NO-OVERLAP, on MONDAY + `days`."""
    bookings = Bookings()
    spans = st.tuples(
        st.sampled_from(roster.therapist_ids),
        st.sampled_from(days).map(lambda n: MONDAY + timedelta(days=n)),
        st.integers(hm(7), hm(18)) | st.integers(0, MINUTES_PER_DAY - 15),
        st.integers(7, 15),
    )
    for n, (therapist, day, start, length) in enumerate(draw(st.lists(spans, max_size=count))):
        try:
            bookings = bookings.book(
                Booking(therapist, day, start, start + length, owner(n, "held")), turnover
            )
        except OverlapError:
            continue
    return bookings


# --- invariants -------------------------------------------------------------------------


def assert_no_overlap(bookings: Bookings, policy: CapacityPolicy) -> None:
    """R-NO-OVERLAP, checked pairwise without the index the code under test uses."""
    for first, second in combinations(list(bookings), 2):
        assert not conflict(first, second, policy.turnover_min), (first, second)


def assert_inside_hours(booking: Booking, roster: Roster) -> None:
    """R-ROSTER: inside one stretch of a day the therapist works (not absent, not gone)."""
    stretches = roster.stretches_on(booking.therapist_id, booking.on)
    assert any(
        s.start_min <= booking.start_min and booking.end_min <= s.end_min for s in stretches
    ), booking


# --- the oracle ------------------------------------------------------------------------


def oracle(
    req: SessionRequest, roster: Roster, bookings: Bookings, turnover: int
) -> tuple[str, int, bool] | None:
    """The rules read literally, by trying every therapist at every minute."""

    def fits(therapist: str, start: int) -> bool:
        end = start + req.duration_min
        if end > MINUTES_PER_DAY:
            return False
        if req.physical_therapy_min is not None and end > req.physical_therapy_min:
            return False
        if not any(s.start_min <= start and end <= s.end_min for s in hours[therapist]):
            return False
        candidate = Booking(therapist, req.on, start, end, req.owner)
        return not any(conflict(b, candidate, turnover) for b in near[therapist])

    hours = {t: roster.stretches_on(t, req.on) for t in roster.therapist_ids}
    near = {
        t: [
            b
            for b in bookings
            if b.therapist_id == t
            and abs((b.on - req.on).days) <= 1
            and b.owner.session_id != req.owner.session_id
        ]
        for t in roster.therapist_ids
    }

    free = {
        t: starts
        for t in roster.therapist_ids
        if (starts := [m for m in range(MINUTES_PER_DAY) if fits(t, m)])
    }
    if not free:
        return None
    if req.therapist_id in free:
        therapist, continued = req.therapist_id, True
    else:
        therapist = min(free, key=lambda t: (bookings.count_on(t, req.on), t))
        continued = False
    starts = free[therapist]
    if req.physical_therapy_min is not None:
        start = max(starts)
    elif req.preferred_min is not None:
        target = req.preferred_min
        start = min(starts, key=lambda m: (abs(m - target), m))
    else:
        start = min(starts)
    return therapist, start, continued
