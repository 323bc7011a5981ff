"""Assigning one session a therapist and a start (R-ROSTER, R-NO-OVERLAP, R-CONTINUITY,
R-PREFERRED-TIME, R-PT-BEFORE), against a minute-by-minute oracle."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.planner.capacity.assign import SessionRequest, assign_session, free_at
from services.planner.capacity.bookings import Booking, Bookings
from services.planner.capacity.policy import CapacityPolicy
from services.planner.capacity.roster import Absent, Roster
from tests.unit.test_planner_capacity_support import (
    MONDAY,
    SETTINGS,
    THERAPISTS,
    assert_inside_hours,
    held_bookings,
    hm,
    oracle,
    owner,
    rostered,
    rosters,
    weekdays,
)

POLICY = CapacityPolicy()
TWO = Roster.from_facts(
    [rostered("t-anna", weekdays(hm(8), hm(12))), rostered("t-ben", weekdays(hm(8), hm(12)))]
)


def request(n: int = 99, **fields: object) -> SessionRequest:
    defaults: dict[str, object] = {"on": MONDAY, "duration_min": 12}
    return SessionRequest(owner(n), **(defaults | fields))  # type: ignore[arg-type]


def held(*bookings: tuple[str, int, int]) -> Bookings:
    return Bookings.of(
        Booking(t, MONDAY, start, end, owner(n)) for n, (t, start, end) in enumerate(bookings)
    )


def test_r_preferred_time_taken_when_free() -> None:
    got = assign_session(request(preferred_min=hm(9)), TWO, Bookings())
    assert got is not None
    assert (got.booking.therapist_id, got.booking.start_min, got.booking.end_min) == (
        "t-anna",
        hm(9),
        hm(9, 12),
    )


def test_r_continuity_the_course_s_therapist_beats_the_preferred_time() -> None:
    bookings = held(("t-ben", hm(9), hm(9, 10)))
    got = assign_session(request(preferred_min=hm(9), therapist_id="t-ben"), TWO, bookings)
    assert got is not None
    assert got.continued
    assert (got.booking.therapist_id, got.booking.start_min) == ("t-ben", hm(9, 15))


def test_r_continuity_otherwise_the_least_booked_therapist_of_the_day() -> None:
    bookings = held(("t-anna", hm(8), hm(8, 10)), ("t-anna", hm(10), hm(10, 10)))
    got = assign_session(request(preferred_min=hm(9)), TWO, bookings)
    assert got is not None
    assert not got.continued
    assert got.booking.therapist_id == "t-ben"
    absent = TWO.apply(Absent("t-ben", MONDAY, MONDAY))
    got = assign_session(request(preferred_min=hm(9), therapist_id="t-ben"), absent, bookings)
    assert got is not None
    assert (got.booking.therapist_id, got.continued) == ("t-anna", False)


def test_r_preferred_time_the_nearest_free_start_the_earlier_on_a_tie() -> None:
    # 9:00-9:12 held by both: 8:43 ends 8:55 (turnover to 9:00), 9:17 starts at 9:12 + 5.
    bookings = held(("t-anna", hm(9), hm(9, 12)), ("t-ben", hm(9), hm(9, 12)))
    got = assign_session(request(preferred_min=hm(9), duration_min=12), TWO, bookings)
    assert got is not None
    assert (got.booking.therapist_id, got.booking.start_min) == ("t-anna", hm(8, 43))
    later = held(("t-anna", hm(9), hm(9, 10)), ("t-ben", hm(9), hm(9, 10)))
    got = assign_session(request(preferred_min=hm(9), duration_min=12), TWO, later)
    assert got is not None
    assert got.booking.start_min == hm(9, 15)  # 15 minutes late beats 17 early


def test_r_preferred_time_without_one_the_earliest_free_start() -> None:
    bookings = held(("t-anna", hm(8), hm(8, 10)), ("t-ben", hm(8), hm(8, 20)))
    got = assign_session(request(), TWO, bookings)
    assert got is not None
    assert (got.booking.therapist_id, got.booking.start_min) == ("t-anna", hm(8, 15))


def test_r_pt_before_the_session_ends_when_the_physical_therapy_starts() -> None:
    """Story 8 with a roster: therapy at 10:30, 12 minutes -> 10:18."""
    got = assign_session(request(physical_therapy_min=hm(10, 30), preferred_min=hm(8)), TWO, held())
    assert got is not None
    assert (got.booking.start_min, got.booking.end_min) == (hm(10, 18), hm(10, 30))


def test_r_pt_before_else_as_close_before_it_as_the_therapist_is_free() -> None:
    """The therapist is chosen first (R-CONTINUITY), then the latest start ending in time."""
    bookings = held(("t-anna", hm(10), hm(10, 30)), ("t-ben", hm(10, 10), hm(10, 25)))
    got = assign_session(request(physical_therapy_min=hm(10, 30)), TWO, bookings)
    assert got is not None
    assert (got.booking.therapist_id, got.booking.end_min) == ("t-anna", hm(9, 55))
    got = assign_session(
        request(physical_therapy_min=hm(10, 30), therapist_id="t-ben"), TWO, bookings
    )
    assert got is not None
    assert (got.booking.therapist_id, got.booking.end_min) == ("t-ben", hm(10, 5))


def test_r_roster_nobody_free_that_day_gives_none() -> None:
    assert assign_session(request(on=MONDAY + timedelta(days=6)), TWO, held()) is None
    full = held(("t-anna", hm(8), hm(11, 50)), ("t-ben", hm(8), hm(11, 50)))
    assert assign_session(request(), TWO, full) is None
    # Physical therapy at 8:10: no start ends by then inside the hours.
    assert assign_session(request(physical_therapy_min=hm(8, 10)), TWO, held()) is None


def test_free_at_names_the_therapists_free_at_exactly_that_time() -> None:
    bookings = held(("t-anna", hm(9), hm(9, 10)))
    assert free_at(request(), hm(9), TWO, bookings) == ("t-ben",)
    assert free_at(request(), hm(10), TWO, bookings) == ("t-ben", "t-anna")
    assert free_at(request(), hm(11, 50), TWO, bookings) == ()


@st.composite
def situations(draw: st.DrawFn) -> tuple[SessionRequest, Roster, Bookings, CapacityPolicy]:
    roster = draw(rosters())
    policy = CapacityPolicy(turnover_min=draw(st.sampled_from([0, 5, 10])))
    bookings = draw(held_bookings(roster, policy.turnover_min))
    req = SessionRequest(
        owner(1, "new"),
        MONDAY,
        draw(st.integers(7, 15)),
        preferred_min=draw(st.none() | st.integers(hm(6), hm(20))),
        physical_therapy_min=draw(st.none() | st.integers(hm(7), hm(20))),
        therapist_id=draw(st.none() | st.sampled_from(THERAPISTS)),
    )
    return req, roster, bookings, policy


@SETTINGS
@given(situations())
def test_assignment_is_what_the_rules_read_literally_give(situation) -> None:
    req, roster, bookings, policy = situation
    got = assign_session(req, roster, bookings, policy)
    expected = oracle(req, roster, bookings, policy.turnover_min)
    if expected is None:
        assert got is None
        return
    assert got is not None
    assert (got.booking.therapist_id, got.booking.start_min, got.continued) == expected
    assert got.booking.duration_min == req.duration_min
    assert got.booking.on == req.on
    assert_inside_hours(got.booking, roster)
    bookings.book(got.booking, policy.turnover_min)  # raises on an overlap
