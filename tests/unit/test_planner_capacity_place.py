"""R-CAPACITY, R-PLAN-STABLE, R-CONTINUITY: placing whole courses, and story 11."""

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import event, given
from hypothesis import strategies as st

from services.planner.cadence import Cadence, next_session_date, session_dates
from services.planner.calendar import ClinicCalendar
from services.planner.capacity.bookings import Booking, Bookings
from services.planner.capacity.place import (
    CourseToPlace,
    Moved,
    Placement,
    days_within_horizon,
    place_course,
)
from services.planner.capacity.policy import CapacityPolicy
from services.planner.capacity.roster import Absent, Roster
from services.planner.plan import DatedSession
from services.planner.ramp import ramp_minutes
from tests.unit.test_planner_capacity_support import (
    MONDAY,
    SETTINGS,
    THERAPISTS,
    assert_inside_hours,
    assert_no_overlap,
    held_bookings,
    hm,
    oracle,
    rostered,
    rosters,
    weekdays,
)

# St Martin's day closed, to have a holiday inside the courses.
CALENDAR = ClinicCalendar("Europe/Berlin", holidays=frozenset({MONDAY + timedelta(days=9)}))
POLICY = CapacityPolicy()
TWO = Roster.from_facts(
    [rostered("t-anna", weekdays(hm(8), hm(12))), rostered("t-ben", weekdays(hm(8), hm(12)))]
)


def course(
    n: int,
    count: int = 15,
    start: date = MONDAY,
    cadence: Cadence = Cadence.EVERY_OTHER_DAY,
    **fields: object,
) -> CourseToPlace:
    days = session_dates(start, count, cadence, CALENDAR)
    sessions = tuple(
        DatedSession(f"c{n}-s{i + 1:02d}", day, ramp_minutes(i)) for i, day in enumerate(days)
    )
    return replace(CourseToPlace(f"p{n}", f"c{n}", cadence, sessions), **fields)  # type: ignore[arg-type]


def place_all(
    courses: list[CourseToPlace],
    roster: Roster = TWO,
    bookings: Bookings | None = None,
    policy: CapacityPolicy = POLICY,
) -> tuple[list[Placement], Bookings]:
    """First come, first served: the courses in the order given."""
    held = bookings or Bookings()
    placements = []
    for each in courses:
        placement = place_course(each, roster, held, CALENDAR, policy)
        placements.append(placement)
        held = placement.bookings
    return placements, held


def course_bookings(each: CourseToPlace, bookings: Bookings) -> list[Booking]:
    held = (bookings.of_session(s.session_id) for s in each.sessions)
    return [b for b in held if b is not None]


def test_r_capacity_a_full_day_moves_the_session_to_the_next_open_day_and_the_cadence_follows() -> (
    None
):
    # Both therapists are busy all Monday morning.
    full = Bookings.of(
        Booking(t, MONDAY, hm(8), hm(12), replace(course(90).owner(course(90).sessions[0])))
        if t == "t-anna"
        else Booking(t, MONDAY, hm(8), hm(12), course(91).owner(course(91).sessions[0]))
        for t in ("t-anna", "t-ben")
    )
    placement = place_course(course(1, count=3), TWO, full, CALENDAR)
    assert [b.on for b in placement.booked] == [
        MONDAY + timedelta(days=1),
        MONDAY + timedelta(days=3),
        MONDAY + timedelta(days=5),
    ]
    assert placement.moved == (
        Moved("c1-s01", MONDAY, MONDAY + timedelta(days=1)),
        Moved("c1-s02", MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)),
        Moved("c1-s03", MONDAY + timedelta(days=4), MONDAY + timedelta(days=5)),
    )
    assert placement.shortage is None


def test_r_capacity_nobody_free_within_the_horizon_the_course_waits_naming_the_days() -> None:
    gone = TWO.apply(Absent("t-anna", MONDAY, MONDAY + timedelta(days=30))).apply(
        Absent("t-ben", MONDAY + timedelta(days=2), MONDAY + timedelta(days=30))
    )
    placement = place_course(course(1, count=3), gone, Bookings(), CALENDAR)
    assert [b.on for b in placement.booked] == [MONDAY]
    assert placement.shortage is not None
    assert placement.shortage.session_id == "c1-s02"
    assert placement.shortage.days_tried == days_within_horizon(
        MONDAY + timedelta(days=2), CALENDAR, POLICY
    )
    assert MONDAY + timedelta(days=9) not in placement.shortage.days_tried  # the holiday
    assert max(placement.shortage.days_tried) == MONDAY + timedelta(days=16)


def test_r_plan_stable_held_bookings_are_kept_and_only_the_rest_placed() -> None:
    _, held = place_all([course(1, count=4, preferred_min=hm(9))])
    released = held.without("c1-s03")
    again = place_course(course(1, count=4, preferred_min=hm(11)), TWO, released, CALENDAR)
    assert [b.owner.session_id for b in again.booked] == ["c1-s03"]
    assert again.booked[0].start_min == hm(11)
    assert again.released == ()
    for session_id in ("c1-s01", "c1-s02", "c1-s04"):
        assert again.bookings.of_session(session_id) == held.of_session(session_id)


def test_r_plan_stable_a_held_booking_released_only_when_the_cadence_must_follow_a_move() -> None:
    _, held = place_all([course(1, count=3)])
    without_first = held.without("c1-s01")
    anna_away = TWO.apply(Absent("t-anna", MONDAY, MONDAY)).apply(Absent("t-ben", MONDAY, MONDAY))
    placement = place_course(course(1, count=3), anna_away, without_first, CALENDAR)
    assert [b.on for b in placement.booked] == [
        MONDAY + timedelta(days=1),
        MONDAY + timedelta(days=3),
        MONDAY + timedelta(days=5),
    ]
    assert [b.owner.session_id for b in placement.released] == ["c1-s02", "c1-s03"]


def test_r_continuity_a_substitute_day_does_not_change_the_course_s_therapist() -> None:
    away = TWO.apply(Absent("t-anna", MONDAY + timedelta(days=2), MONDAY + timedelta(days=2)))
    placement = place_course(course(1, count=3, therapist_id="t-anna"), away, Bookings(), CALENDAR)
    assert [b.therapist_id for b in placement.booked] == ["t-anna", "t-ben", "t-anna"]


# --- story 11 ---------------------------------------------------------------------------


def story_11(patients: int) -> tuple[list[CourseToPlace], list[Placement], Bookings]:
    """Two therapists 8:00-12:00, 5-minute turnover, everybody from the same Monday at 9:00."""
    courses = [course(n, preferred_min=hm(9)) for n in range(1, patients + 1)]
    placements, bookings = place_all(courses)
    return courses, placements, bookings


def assert_courses_kept(courses: list[CourseToPlace], bookings: Bookings) -> None:
    for each in courses:
        booked = course_bookings(each, bookings)
        assert len(booked) == len(each.sessions)  # everybody has a therapist and a time
        assert [b.duration_min for b in booked] == [*range(7, 16), *[15] * 6]  # the ramp
        for earlier, later in pairwise(booked):
            assert later.on >= next_session_date(earlier.on, each.cadence, CALENDAR)
        for booking in booked:
            assert CALENDAR.is_open(booking.on)
            assert_inside_hours(booking, TWO)


def test_story_11_twenty_patients_on_one_monday_at_nine() -> None:
    courses, placements, bookings = story_11(20)
    assert_no_overlap(bookings, POLICY)
    assert_courses_kept(courses, bookings)
    assert all(p.shortage is None for p in placements)
    for each in courses:  # courses keep their therapist
        assert len({b.therapist_id for b in course_bookings(each, bookings)}) == 1
    monday = sorted(b.start_min for b in bookings if b.on == MONDAY)
    assert monday.count(hm(9)) == 2  # one at 9:00 with each therapist
    assert min(monday) >= hm(8)
    assert max(b.end_min for b in bookings) <= hm(12)


def test_story_11_patients_who_do_not_fit_move_to_the_next_open_day_with_room() -> None:
    courses, placements, bookings = story_11(30)
    assert_no_overlap(bookings, POLICY)
    assert_courses_kept(courses, bookings)
    assert all(p.shortage is None for p in placements)
    assert placements[0].moved == ()  # first come, first served
    movers = [(n, p.moved[0]) for n, p in enumerate(placements) if p.moved]
    assert movers  # thirty sessions of 12 minutes and more overfill two mornings
    for n, first in movers:
        # What was held when it was placed: the earlier courses and its own earlier sessions.
        earlier = {c.course_id for c in courses[:n]}
        own = courses[n].sessions
        before = [s.session_id for s in own[: [s.session_id for s in own].index(first.session_id)]]
        held = Bookings.of(
            b for b in bookings if b.owner.course_id in earlier or b.owner.session_id in before
        )
        assert first.to_on > first.from_on
        session = next(s for s in own if s.session_id == first.session_id)
        day = first.from_on
        while day < first.to_on:  # every open day it skipped had no room
            if CALENDAR.is_open(day):
                request = courses[n].request(session, day, None)
                assert oracle(request, TWO, held, POLICY.turnover_min) is None
            day += timedelta(days=1)


# --- properties -------------------------------------------------------------------------


@st.composite
def courses_to_place(draw: st.DrawFn, n: int) -> CourseToPlace:
    start = MONDAY + timedelta(days=draw(st.integers(0, 6)))
    cadence = draw(st.sampled_from(Cadence))
    count = draw(st.integers(1, 15))
    days = session_dates(start, count, cadence, CALENDAR)
    return course(
        n,
        count=count,
        start=start,
        cadence=cadence,
        preferred_min=draw(st.none() | st.integers(hm(7), hm(18))),
        physical_therapy=draw(
            st.dictionaries(st.sampled_from(days), st.integers(hm(8), hm(18)), max_size=3)
        ),
        therapist_id=draw(st.none() | st.sampled_from(THERAPISTS)),
    )


@st.composite
def clinics(draw: st.DrawFn) -> tuple[Roster, Bookings, CapacityPolicy]:
    roster = draw(rosters())
    policy = CapacityPolicy(
        turnover_min=draw(st.sampled_from([0, 5, 10])),
        horizon_days=draw(st.sampled_from([0, 3, 14])),
    )
    return roster, draw(held_bookings(roster, policy.turnover_min, range(35), 60)), policy


def replay(
    course: CourseToPlace,
    roster: Roster,
    start: Bookings,
    policy: CapacityPolicy,
    placement: Placement,
) -> None:
    """The placement, checked step by step against the rules read literally."""
    bookings = start
    previous: date | None = None
    held_first = (start.of_session(s.session_id) for s in course.sessions)
    therapist = course.therapist_id or next((b.therapist_id for b in held_first if b), None)
    booked = list(placement.booked)
    for session in course.sessions:
        due = CALENDAR.next_open_on_or_after(session.on)
        if previous is not None:
            due = max(due, next_session_date(previous, course.cadence, CALENDAR))
        held = bookings.of_session(session.session_id)
        if held is not None and held.on >= due:
            assert held not in placement.released  # R-PLAN-STABLE
            previous = held.on
            continue
        if held is not None:
            assert held in placement.released
            bookings = bookings.without(session.session_id)
        for day in days_within_horizon(due, CALENDAR, policy):
            expected = oracle(
                course.request(session, day, therapist), roster, bookings, policy.turnover_min
            )
            if expected is not None:
                break
        else:
            assert placement.shortage is not None
            assert placement.shortage.session_id == session.session_id
            assert placement.shortage.days_tried == days_within_horizon(due, CALENDAR, policy)
            assert booked == []
            waiting = course.sessions[course.sessions.index(session) :]
            for later in waiting:  # the course waits: nothing after it keeps a booking
                assert placement.bookings.of_session(later.session_id) is None
                if (was := bookings.of_session(later.session_id)) is not None:
                    assert was in placement.released
            return
        got = booked.pop(0)
        assert (got.on, got.therapist_id, got.start_min) == (day, *expected[:2])
        assert got.duration_min == session.duration_min
        bookings = bookings.adding(got)
        therapist = therapist or got.therapist_id
        previous = got.on
    assert placement.shortage is None
    assert booked == []


@SETTINGS
@given(clinics(), courses_to_place(1), st.data())
def test_r_capacity_placing_a_course_follows_the_rules_step_by_step(clinic, each, data) -> None:
    roster, others, policy = clinic
    # Some of the course's sessions already hold bookings: placed once, then some released.
    first = place_course(each, roster, others, CALENDAR, policy).bookings
    dropped = data.draw(st.sets(st.sampled_from([s.session_id for s in each.sessions])))
    start = first
    for session_id in dropped:
        start = start.without(session_id)
    placement = place_course(each, roster, start, CALENDAR, policy)
    event("shortage" if placement.shortage else "placed")
    event("moved" if placement.moved else "on the planned days")
    event("released" if placement.released else "nothing released")
    replay(each, roster, start, policy, placement)
    assert place_course(each, roster, start, CALENDAR, policy) == placement  # deterministic
    after = placement.bookings
    assert_no_overlap(after, policy)
    for booking in placement.booked:
        assert_inside_hours(booking, roster)  # never outside hours, on an absence, after leaving
        assert CALENDAR.is_open(booking.on)
    kept = [b for b in start if b not in placement.released]
    assert all(after.of_session(b.owner.session_id) == b for b in kept)  # R-PLAN-STABLE
    assert len(after) == len(kept) + len(placement.booked)  # nothing lost, nothing doubled
    mine = course_bookings(each, after)
    for earlier, later in pairwise(mine):
        assert later.on >= next_session_date(earlier.on, each.cadence, CALENDAR)


@SETTINGS
@given(clinics(), st.lists(st.integers(0, 1000), min_size=1, max_size=8))
def test_r_no_overlap_many_courses_placed_in_turn_keep_every_invariant(clinic, seeds) -> None:
    roster, others, policy = clinic
    courses = [
        course(
            n,
            count=15,
            start=MONDAY + timedelta(days=seed % 5),
            cadence=Cadence.DAILY if seed % 2 else Cadence.EVERY_OTHER_DAY,
            preferred_min=hm(9) if seed % 3 else None,
        )
        for n, seed in enumerate(seeds)
    ]
    placements, bookings = place_all(courses, roster, others, policy)
    assert_no_overlap(bookings, policy)
    for each, placement in zip(courses, placements, strict=True):
        mine = course_bookings(each, bookings)
        placed = len(mine)
        assert placed == len(each.sessions) or placement.shortage is not None
        for earlier, later in pairwise(mine):
            assert later.on >= next_session_date(earlier.on, each.cadence, CALENDAR)
        for booking in mine:
            assert_inside_hours(booking, roster)
            assert CALENDAR.is_open(booking.on)
    again = place_all(courses, roster, others, policy)
    assert again == (placements, bookings)  # deterministic
