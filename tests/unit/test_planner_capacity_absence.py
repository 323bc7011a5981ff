"""R-THERAPIST-ABSENT: an absence moves the therapist's sessions, and story 12."""

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import event, given
from hypothesis import strategies as st

from schemas.rules import RuleId
from services.planner.cadence import Cadence, next_session_date
from services.planner.capacity.absence import SessionMove, StaffMoves, move_for_staff_fact
from services.planner.capacity.assign import SessionRequest
from services.planner.capacity.bookings import Booking, Bookings, conflict
from services.planner.capacity.place import CourseToPlace
from services.planner.capacity.policy import CapacityPolicy
from services.planner.capacity.roster import Absent, Left, Roster, Rostered, StaffFact
from tests.unit.test_planner_capacity_place import (
    CALENDAR,
    POLICY,
    TWO,
    clinics,
    course,
    course_bookings,
    place_all,
)
from tests.unit.test_planner_capacity_support import (
    MONDAY,
    SETTINGS,
    assert_inside_hours,
    assert_no_overlap,
    hm,
    oracle,
    rostered,
    stamp,
    weekdays,
    weekly_hours,
)

WEDNESDAY = MONDAY + timedelta(days=2)
FRIDAY = MONDAY + timedelta(days=4)
ANNA_ONLY = Roster.from_facts([rostered("t-anna", weekdays(hm(8), hm(12)))])


def staff_fact(  # noqa: PLR0917
    courses: list[CourseToPlace],
    bookings: Bookings,
    fact: StaffFact,
    roster: Roster = TWO,
    policy: CapacityPolicy = POLICY,
    today: date = MONDAY,
) -> StaffMoves:
    by_id = {c.course_id: c for c in courses}
    return move_for_staff_fact(fact, roster, bookings, by_id, CALENDAR, today=today, policy=policy)


def test_r_therapist_absent_first_another_therapist_at_the_same_time() -> None:
    courses = [course(1, count=3, preferred_min=hm(9))]
    _, bookings = place_all(courses)
    assert course_bookings(courses[0], bookings)[0].therapist_id == "t-anna"
    result = staff_fact(courses, bookings, Absent("t-anna", MONDAY, MONDAY))
    (move,) = result.moves
    assert move.to_booking is not None
    assert move.from_booking is not None
    assert (move.to_booking.therapist_id, move.to_booking.on, move.to_booking.start_min) == (
        "t-ben",
        MONDAY,
        hm(9),
    )
    assert move.rules == (RuleId.THERAPIST_ABSENT,)


def test_r_therapist_absent_else_another_time_that_day() -> None:
    courses = [course(1, count=1, preferred_min=hm(9)), course(2, count=1, preferred_min=hm(9))]
    _, bookings = place_all(courses)  # anna 9:00, ben 9:00
    result = staff_fact(courses, bookings, Absent("t-anna", MONDAY, MONDAY))
    (move,) = result.moves
    assert move.to_booking is not None
    assert (move.to_booking.therapist_id, move.to_booking.on) == ("t-ben", MONDAY)
    assert move.to_booking.start_min == hm(8, 48)  # ends 8:55, turnover to ben's 9:00
    assert move.rules == (RuleId.THERAPIST_ABSENT,)


def test_r_therapist_absent_else_a_later_day_and_the_cadence_follows() -> None:
    courses = [course(1, count=3, preferred_min=hm(9))]
    _, bookings = place_all(courses, ANNA_ONLY)
    result = staff_fact(courses, bookings, Absent("t-anna", MONDAY, MONDAY), roster=ANNA_ONLY)
    days = [(m.to_booking.on if m.to_booking else None) for m in result.moves]
    assert days == [MONDAY + timedelta(days=1), MONDAY + timedelta(days=3), FRIDAY + timedelta(1)]
    assert [m.rules for m in result.moves] == [
        (RuleId.THERAPIST_ABSENT, RuleId.CAPACITY),
        (RuleId.THERAPIST_ABSENT, RuleId.CAPACITY, RuleId.CADENCE),
        (RuleId.THERAPIST_ABSENT, RuleId.CAPACITY, RuleId.CADENCE),
    ]


def test_r_therapist_absent_nobody_within_the_horizon_the_course_waits() -> None:
    courses = [course(1, count=2)]
    _, bookings = place_all(courses, ANNA_ONLY)
    away = Absent("t-anna", MONDAY, MONDAY + timedelta(days=40))
    result = staff_fact(courses, bookings, away, ANNA_ONLY)
    assert [m.to_booking for m in result.moves] == [None, None]
    assert [m.rules[0] for m in result.moves] == [RuleId.THERAPIST_ABSENT] * 2
    (shortage,) = result.shortages
    assert shortage.session_id == "c1-s01"
    assert len(result.bookings) == 0


def test_r_therapist_absent_sessions_before_today_are_not_moved() -> None:
    courses = [course(1, count=3, preferred_min=hm(9))]
    _, bookings = place_all(courses)
    result = staff_fact(courses, bookings, Absent("t-anna", MONDAY, FRIDAY), today=WEDNESDAY)
    assert [m.owner.session_id for m in result.moves] == ["c1-s02", "c1-s03"]
    assert result.bookings.of_session("c1-s01") == bookings.of_session("c1-s01")


def test_r_roster_new_hours_move_the_sessions_outside_them_naming_r_roster() -> None:
    courses = [course(1, count=3, preferred_min=hm(11, 30), therapist_id="t-anna")]
    _, bookings = place_all(courses)
    shorter = rostered("t-anna", weekdays(hm(8), hm(11)), WEDNESDAY, stamp(60, "later"))
    result = staff_fact(courses, bookings, shorter)
    assert [m.owner.session_id for m in result.moves] == ["c1-s02", "c1-s03"]
    assert all(m.rules == (RuleId.ROSTER,) for m in result.moves)
    assert [
        (m.to_booking.therapist_id, m.to_booking.start_min) for m in result.moves if m.to_booking
    ] == [
        ("t-ben", hm(11, 30)),
        ("t-ben", hm(11, 30)),
    ]
    assert result.bookings.of_session("c1-s01") == bookings.of_session("c1-s01")


def test_r_roster_a_therapist_leaving_hands_their_later_sessions_on() -> None:
    courses = [course(1, count=4, preferred_min=hm(9), therapist_id="t-anna")]
    _, bookings = place_all(courses)
    result = staff_fact(courses, bookings, Left("t-anna", WEDNESDAY, stamp(60, "left")))
    assert [m.owner.session_id for m in result.moves] == ["c1-s03", "c1-s04"]
    assert {m.to_booking.therapist_id for m in result.moves if m.to_booking} == {"t-ben"}
    assert all(m.rules[0] == RuleId.ROSTER for m in result.moves)


# --- story 12 ---------------------------------------------------------------------------


def test_story_12_three_days_absence_moves_to_the_other_therapist_else_later() -> None:
    """Anna is away Wednesday to Friday: her sessions go to Ben at the same time where he is
    free, else at another time or on a later day; every course says R-THERAPIST-ABSENT."""
    at_nine = [course(n, preferred_min=hm(9)) for n in range(1, 9)]  # shared by both
    annas = [course(n, preferred_min=hm(11), therapist_id="t-anna") for n in range(9, 13)]
    courses = at_nine + annas
    _, bookings = place_all(courses)
    absence = Absent("t-anna", WEDNESDAY, FRIDAY)
    hit = [b for b in bookings if b.therapist_id == "t-anna" and absence.covers(b.on)]
    result = staff_fact(courses, bookings, absence)
    after = result.bookings
    moves = {m.owner.session_id: m for m in result.moves}
    assert {b.owner.session_id for b in hit} <= moves.keys()  # every hit session moves
    assert all(m.rules[0] == RuleId.THERAPIST_ABSENT for m in result.moves)
    assert not [b for b in after if b.therapist_id == "t-anna" and absence.covers(b.on)]
    assert_no_overlap(after, POLICY)
    same_time = [
        to
        for b in hit
        if (to := moves[b.owner.session_id].to_booking)
        and (to.on, to.start_min) == (b.on, b.start_min)
    ]
    assert {b.owner.course_id for b in same_time} == {c.course_id for c in annas}
    assert all(b.therapist_id == "t-ben" for b in same_time)
    assert len(same_time) < len(hit)  # at 9:00 Ben is busy too: those go later
    assert_passes_in_order(hit, moves, bookings, result, POLICY)
    assert result.shortages == ()
    for each in courses:
        mine = course_bookings(each, after)
        assert len(mine) == len(each.sessions)  # none lost
        for earlier, later in pairwise(mine):
            assert later.on >= next_session_date(earlier.on, each.cadence, CALENDAR)
        for booking in mine:
            assert_inside_hours(booking, result.roster)
        # Back from the absence, Anna's courses are hers again.
        if course_bookings(each, bookings)[0].therapist_id == "t-anna":
            assert all(b.therapist_id == "t-anna" for b in mine if b.on > FRIDAY)


# --- properties -------------------------------------------------------------------------


def nobody_free_at(booking: Booking, roster: Roster, bookings: Bookings, turnover: int) -> bool:
    for therapist in roster.therapist_ids:
        candidate = Booking(
            therapist, booking.on, booking.start_min, booking.end_min, booking.owner
        )
        inside = any(
            s.start_min <= candidate.start_min and candidate.end_min <= s.end_min
            for s in roster.stretches_on(therapist, booking.on)
        )
        if inside and not any(conflict(b, candidate, turnover) for b in bookings):
            return False
    return True


@SETTINGS
@given(clinics(), st.lists(st.integers(0, 1000), min_size=1, max_size=6), st.data())
def test_r_therapist_absent_and_r_roster_moves_keep_every_invariant(clinic, seeds, data) -> None:
    roster, others, policy = clinic
    courses = [
        course(
            n,
            count=data.draw(st.integers(1, 15)),
            start=MONDAY + timedelta(days=seed % 5),
            cadence=Cadence.DAILY if seed % 2 else Cadence.EVERY_OTHER_DAY,
            preferred_min=hm(9) if seed % 3 else None,
            therapist_id=data.draw(st.none() | st.sampled_from(roster.therapist_ids)),
        )
        for n, seed in enumerate(seeds)
    ]
    _, before = place_all(courses, roster, others, policy)
    # Mostly a fact that hits a course's booking, from up to two days before it.
    booked = [b for b in before if b.owner.course_id != "held"]
    today = MONDAY + timedelta(days=data.draw(st.integers(0, 6)))
    if booked and data.draw(st.integers(0, 3)):
        aimed = data.draw(st.sampled_from(booked))
        therapist = aimed.therapist_id
        start = aimed.on - timedelta(days=data.draw(st.integers(0, 2)))
        today = min(today, aimed.on)
    else:
        therapist = data.draw(st.sampled_from(roster.therapist_ids))
        start = MONDAY + timedelta(days=data.draw(st.integers(0, 20)))
    fact: StaffFact = data.draw(
        st.one_of(
            st.integers(2, 4).map(lambda n: Absent(therapist, start, start + timedelta(days=n))),
            weekly_hours().map(lambda h: Rostered(therapist, h, start, stamp(99, "zz"))),
            st.just(Left(therapist, start, stamp(99, "zz"))),
        )
    )
    cause = RuleId.THERAPIST_ABSENT if isinstance(fact, Absent) else RuleId.ROSTER

    with_fact = roster.apply(fact)

    def hit_by_fact(b: Booking) -> bool:
        fits = with_fact.allows(b.therapist_id, b.on, b.start_min, b.end_min)
        return b.therapist_id == therapist and b.on >= today and not fits

    # Other patients' bookings belong to no course here: the fact hits only courses.
    before = Bookings.of(b for b in before if b.owner.course_id != "held" or not hit_by_fact(b))
    hit = [b for b in before if hit_by_fact(b)]
    result = staff_fact(courses, before, fact, roster, policy, today)
    event("the fact hits sessions" if hit else "the fact hits nothing")
    event("some move a later day" if any(RuleId.CAPACITY in m.rules for m in result.moves) else "-")
    after = result.bookings
    assert staff_fact(courses, before, fact, roster, policy, today) == result  # deterministic
    assert_no_overlap(after, policy)
    moves = {m.owner.session_id: m for m in result.moves}
    assert len(moves) == len(result.moves)  # one move per session
    assert {b.owner.session_id for b in hit} <= moves.keys()  # every hit session moves
    for move in result.moves:
        assert move.rules[0] == cause
        assert after.of_session(move.owner.session_id) == move.to_booking
        if move.to_booking is not None:
            assert_inside_hours(move.to_booking, result.roster)  # never on an absence
            assert CALENDAR.is_open(move.to_booking.on)
        if move.to_booking is None:
            assert result.shortages
    assert not [b for b in after if hit_by_fact(b)]
    for b in before:  # R-PLAN-STABLE: what no move names stays as it was
        if b.owner.session_id not in moves:
            assert after.of_session(b.owner.session_id) == b
    for each in courses:
        mine = course_bookings(each, after)
        for earlier, later in pairwise(mine):
            assert later.on >= next_session_date(earlier.on, each.cadence, CALENDAR)
    assert_passes_in_order(hit, moves, before, result, policy)


def assert_passes_in_order(
    hit: list[Booking],
    moves: dict[str, SessionMove],
    before: Bookings,
    result: StaffMoves,
    policy: CapacityPolicy,
) -> None:
    """Same time first, then the same day, then later: checked against a superset of what
    was held when each was tried (every same-time move, then every same-day move)."""
    if any(RuleId.CADENCE in moves[b.owner.session_id].rules for b in hit):
        return  # a same-day move given up again for the cadence: its booking is gone
    held = Bookings.of(b for b in before if b not in hit)
    was = {b.owner.session_id: b for b in hit}
    kept_day = [
        to
        for m in moves.values()
        if (to := m.to_booking)
        and to.owner.session_id in was
        and to.on == was[to.owner.session_id].on
    ]
    same_time = [b for b in kept_day if b.start_min == was[b.owner.session_id].start_min]
    for b in same_time:
        held = held.adding(b)
    for b in hit:
        if moves[b.owner.session_id].to_booking not in same_time:
            assert nobody_free_at(b, result.roster, held, policy.turnover_min)
    for b in kept_day:
        held = held.adding(b)
    for b in hit:
        if moves[b.owner.session_id].to_booking not in kept_day:
            request = SessionRequest(b.owner, b.on, b.duration_min)
            assert oracle(request, result.roster, held, policy.turnover_min) is None
