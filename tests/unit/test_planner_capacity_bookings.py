"""R-NO-OVERLAP: when two bookings conflict, and the free starts of a therapist's day."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planner.capacity.bookings import Booking, Bookings, Draft, OverlapError, conflict
from services.planner.capacity.clock import MINUTES_PER_DAY
from services.planner.capacity.free import Starts, chosen_start, free_starts, free_time
from services.planner.capacity.roster import Stretch
from tests.unit.test_planner_capacity_support import MONDAY, hm, owner

TUESDAY = MONDAY + timedelta(days=1)


def booking(n: int, start: int, end: int, therapist: str = "t-anna", day=MONDAY) -> Booking:
    return Booking(therapist, day, start, end, owner(n))


def test_r_no_overlap_the_turnover_separates_two_sessions() -> None:
    nine = booking(1, hm(9), hm(9, 12))
    assert conflict(nine, booking(2, hm(9, 16), hm(9, 30)), 5)
    assert not conflict(nine, booking(2, hm(9, 17), hm(9, 30)), 5)
    assert not conflict(nine, booking(2, hm(8, 40), hm(8, 55)), 5)
    assert conflict(nine, booking(2, hm(8, 41), hm(8, 56)), 5)


def test_r_no_overlap_two_therapists_or_two_days_never_conflict() -> None:
    nine = booking(1, hm(9), hm(9, 12))
    assert not conflict(nine, booking(2, hm(9), hm(9, 12), therapist="t-ben"), 5)
    assert not conflict(nine, booking(2, hm(9), hm(9, 12), day=TUESDAY), 5)


def test_r_no_overlap_the_turnover_reaches_past_midnight() -> None:
    late = booking(1, hm(23, 40), hm(23, 58))
    assert conflict(late, booking(2, 0, 10, day=TUESDAY), 5)
    assert not conflict(late, booking(2, 3, 10, day=TUESDAY), 5)


def test_r_no_overlap_bookings_refuse_an_overlap_and_replace_a_session_s_own() -> None:
    held = Bookings.of([booking(1, hm(9), hm(9, 12))])
    with pytest.raises(OverlapError):
        held.book(booking(2, hm(9, 10), hm(9, 20)), 5)
    moved = held.book(booking(1, hm(9, 5), hm(9, 17)), 5)
    assert list(moved) == [booking(1, hm(9, 5), hm(9, 17))]
    assert moved.without("c1-s01") == Bookings()


@st.composite
def day_bookings(draw: st.DrawFn) -> list[Booking]:
    spans = draw(
        st.lists(
            st.tuples(
                st.sampled_from([MONDAY, TUESDAY]),
                st.integers(0, MINUTES_PER_DAY - 1),
                st.integers(1, 30),
            ),
            max_size=8,
        )
    )
    return [
        Booking("t-anna", day, start, min(start + length, MINUTES_PER_DAY), owner(n))
        for n, (day, start, length) in enumerate(spans)
    ]


def busy_minutes(b: Booking, turnover: int) -> set[int]:
    offset = (b.on - MONDAY).days * MINUTES_PER_DAY
    return set(range(offset + b.start_min, offset + b.end_min + turnover))


@given(day_bookings(), st.integers(0, 15))
def test_r_no_overlap_conflict_is_the_database_s_range_overlap(bookings, turnover) -> None:
    """tstzrange(starts_at, ends_at + turnover) && ..., as sets of minutes."""
    for first in bookings:
        for second in bookings:
            if first is not second:
                expected = bool(busy_minutes(first, turnover) & busy_minutes(second, turnover))
                assert conflict(first, second, turnover) == expected


@given(day_bookings())
def test_bookings_index_holds_exactly_what_was_added(bookings) -> None:
    held = Bookings.of(bookings)
    assert sorted(held, key=lambda b: b.owner) == sorted(bookings, key=lambda b: b.owner)
    for b in bookings:
        assert held.of_session(b.owner.session_id) == b
        assert b in held.on("t-anna", b.on)
    assert sum(held.count_on("t-anna", day) for day in (MONDAY, TUESDAY)) == len(bookings)
    assert Bookings.of(reversed(bookings)) == held


@st.composite
def day_shapes(draw: st.DrawFn) -> tuple[list[Stretch], list[tuple[int, int]], int, int]:
    stretches = [
        Stretch(start, min(start + length, MINUTES_PER_DAY))
        for start, length in draw(
            st.lists(st.tuples(st.integers(0, 1400), st.integers(1, 300)), max_size=3)
        )
    ]
    busy = [
        (start, start + length)
        for start, length in draw(
            st.lists(st.tuples(st.integers(-60, 1500), st.integers(1, 40)), max_size=6)
        )
    ]
    return stretches, busy, draw(st.integers(1, 20)), draw(st.integers(0, 10))


@given(day_shapes(), st.integers(-100, 1500))
def test_free_starts_are_exactly_the_minutes_a_scan_would_allow(shape, target) -> None:
    stretches, busy, duration, turnover = shape
    allowed = {
        start
        for s in stretches
        for start in range(s.start_min, s.end_min - duration + 1)
        if all(start >= end + turnover or start + duration + turnover <= b for b, end in busy)
    }
    free = free_starts(stretches, busy, duration, turnover)
    assert {m for starts in free for m in range(starts.first, starts.last + 1)} == allowed


@st.composite
def roster_day_shapes(draw: st.DrawFn) -> tuple[list[Stretch], list[tuple[int, int]], int, int]:
    """`day_shapes` whose stretches never overlap or touch, as a roster's (`roster.py`
    merges them), given in any order."""
    _, busy, duration, turnover = draw(day_shapes())
    cuts = sorted(draw(st.sets(st.integers(0, MINUTES_PER_DAY), max_size=6)))
    stretches = [Stretch(start, end) for start, end in zip(cuts[::2], cuts[1::2], strict=False)]
    return draw(st.permutations(stretches)), busy, duration, turnover


def test_r_preferred_time_of_two_free_starts_equally_near_the_earlier_is_chosen() -> None:
    ten = (hm(10), hm(10, 10))  # forbids 9:51 to 10:09 to a session of 10 minutes
    assert chosen_start([Stretch(hm(8), hm(12))], [ten], 10, 0, nearest_to=hm(10)) == hm(9, 50)


@given(roster_day_shapes(), st.integers(-100, 1500))
def test_the_chosen_start_is_the_one_a_scan_of_the_free_minutes_would_choose(shape, target) -> None:
    """R-PT-BEFORE: the latest free start at or before the bound; R-PREFERRED-TIME: the
    nearest to the preferred time, the earlier of two equally near; else the earliest."""
    stretches, busy, duration, turnover = shape
    stretches, busy = sorted(stretches), sorted(busy)  # as a roster and a day keep them
    free = free_starts(stretches, busy, duration, turnover)
    allowed = [m for starts in free for m in range(starts.first, starts.last + 1)]
    assert chosen_start(stretches, busy, duration, turnover) == min(allowed, default=None)
    assert chosen_start(stretches, busy, duration, turnover, latest_until=target) == max(
        (m for m in allowed if m <= target), default=None
    )
    nearest = min(allowed, key=lambda m: (abs(m - target), m), default=None)
    assert chosen_start(stretches, busy, duration, turnover, nearest_to=target) == nearest
    both = chosen_start(stretches, busy, duration, turnover, nearest_to=0, latest_until=target)
    assert both == max((m for m in allowed if m <= target), default=None)  # therapy first


def test_free_time_is_the_hours_less_each_booking_and_its_turnover() -> None:
    mornings = [Stretch(hm(8), hm(12))]
    busy = [(hm(9), hm(9, 7)), (hm(11), hm(11, 55))]
    assert free_time(mornings, busy, 5) == (
        Starts(hm(8), hm(8, 55)),
        Starts(hm(9, 12), hm(10, 55)),
    )  # 11:55 + 5 reaches the end of the stretch: nothing left after it
    back_to_back = [(hm(8, 5), hm(9)), (hm(9, 5), hm(9, 55))]
    assert free_time([Stretch(hm(8), hm(10))], back_to_back, 5) == ()
    assert free_time(mornings, [], 5) == (Starts(hm(8), hm(12)),)


@given(day_shapes())
def test_a_session_fits_the_free_time_exactly_where_it_has_a_free_start(shape) -> None:
    stretches, busy, duration, turnover = shape
    spans = free_time(stretches, busy, turnover)
    assert all(span.first < span.last for span in spans)
    starts = free_starts(stretches, busy, duration, turnover)
    fitting = {m for span in spans for m in range(span.first, span.last - duration + 1)}
    assert {m for s in starts for m in range(s.first, s.last + 1)} == fitting


@given(day_bookings(), st.data())
def test_bookings_changed_at_once_as_one_at_a_time(bookings, data) -> None:
    held = Bookings.of(bookings)
    sessions = sorted({b.owner.session_id for b in bookings} | {"c9-s99"})
    freed = data.draw(st.lists(st.sampled_from(sessions), max_size=4))
    # A session booked again stays, or moves to another therapist or day.
    moves = st.sampled_from([lambda b: b, lambda b: replace(b, therapist_id="t-ben"),
                             lambda b: replace(b, on=b.on + timedelta(days=1))])  # fmt: skip
    again = st.tuples(st.sampled_from(bookings), moves).map(lambda pair: pair[1](pair[0]))
    booked = data.draw(st.lists(again, max_size=4)) if bookings else []
    one_at_a_time = held
    for key in (*freed, *(b.owner.session_id for b in booked)):
        one_at_a_time = one_at_a_time.without(key)
    for b in booked:
        one_at_a_time = one_at_a_time.adding(b)
    assert held.changed(freed, booked) == one_at_a_time
    assert list(held.changed(freed, booked)) == list(one_at_a_time)


@given(day_bookings(), st.data())
def test_a_draft_changed_in_place_ends_as_the_bookings_changed_one_at_a_time(
    bookings, data
) -> None:
    held = Bookings.of(bookings)
    sessions = sorted({b.owner.session_id for b in bookings} | {"c9-s99"})
    moves = st.sampled_from([lambda b: replace(b, therapist_id="t-ben"),
                             lambda b: replace(b, on=b.on + timedelta(days=1))])  # fmt: skip
    again = st.tuples(st.sampled_from(bookings), moves).map(lambda pair: pair[1](pair[0]))
    steps = data.draw(st.lists(
        st.one_of(st.sampled_from(sessions), again) if bookings else st.sampled_from(sessions),
        max_size=6,
    ))  # fmt: skip
    draft, expected = Draft(held), held
    for step in steps:  # a session id is freed, a booking is added
        if isinstance(step, str):
            draft.without(step)
            expected = expected.without(step)
        else:
            draft.adding(step)
            expected = expected.adding(step)
        assert draft.near("t-ben", MONDAY) == expected.near("t-ben", MONDAY)
    result = draft.bookings()
    assert result == expected
    assert list(result) == list(expected)
    assert Bookings.of(bookings) == held  # the draft copied what it changed


def test_a_draft_whose_bookings_were_taken_refuses_any_change() -> None:
    first = booking(1, hm(9), hm(9, 15))
    draft = Draft(Bookings.of([first]))
    done = draft.bookings()
    with pytest.raises(RuntimeError):
        draft.without(first.owner.session_id)
    with pytest.raises(RuntimeError):
        draft.adding(booking(2, hm(10), hm(10, 15)))
    assert list(done) == [first]
    assert done.on("t-anna", MONDAY) == (first,)  # the refused change touched nothing
