"""R-THERAPIST-ABSENT and R-ROSTER: moving the sessions a staff fact takes from a therapist.

An absence, hours re-sent without some times, or a therapist leaving leaves some of that
therapist's bookings from `today` on outside their working hours (R-ROSTER). Those are
given up, then moved in three passes, each over all of them in order (day, start, session):
1. another therapist at the same time (the fewest bookings that day, then by id);
2. another time that day (`assign_session` aiming at the old start);
3. a later day: the course is placed again (`place_course`, R-CAPACITY), so the cadence
   continues from the day the session falls on and the course's later sessions follow it
   where they must; when nobody is free within the horizon the course waits (`Shortage`).
Doing each pass for all sessions before the next one keeps same-time moves from being
crowded out by other-time ones. Every move names its cause first (R-THERAPIST-ABSENT for
an absence, R-ROSTER for new hours or a leaving); a change of day adds R-CAPACITY, and a
session moved only to keep its course's cadence adds R-CADENCE.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from schemas.rules import RuleId
from services.planner.capacity.assign import SessionRequest, assign_session, free_at
from services.planner.capacity.place import Shortage, place_course
from services.planner.capacity.policy import DEFAULT_CAPACITY_POLICY, CapacityPolicy
from services.planner.capacity.roster import Absent

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date

    from services.planner.calendar import ClinicCalendar
    from services.planner.capacity.bookings import Booking, Bookings, Owner
    from services.planner.capacity.place import CourseToPlace
    from services.planner.capacity.roster import Roster, StaffFact


@dataclass(frozen=True, slots=True)
class SessionMove:
    owner: Owner
    from_booking: Booking | None  # None: the session held no booking (it was waiting)
    to_booking: Booking | None  # None: nobody free within the horizon; the course waits
    rules: tuple[RuleId, ...]


@dataclass(frozen=True, slots=True)
class StaffMoves:
    moves: tuple[SessionMove, ...]
    shortages: tuple[Shortage, ...]
    roster: Roster  # with the fact
    bookings: Bookings  # all bookings held afterwards


def move_for_staff_fact(  # noqa: PLR0913
    fact: StaffFact,
    roster: Roster,
    bookings: Bookings,
    courses: Mapping[str, CourseToPlace],
    calendar: ClinicCalendar,
    *,
    today: date,
    policy: CapacityPolicy = DEFAULT_CAPACITY_POLICY,
) -> StaffMoves:
    """`courses`: every course the fact hits, by course id, with its sessions to come."""
    roster = roster.apply(fact)
    cause = RuleId.THERAPIST_ABSENT if isinstance(fact, Absent) else RuleId.ROSTER
    same_day, later_day, following = (
        (cause,),
        (cause, RuleId.CAPACITY),
        (cause, RuleId.CAPACITY, RuleId.CADENCE),
    )
    hit = _no_longer_fitting(fact.therapist_id, roster, bookings, today)
    for booking in hit:
        bookings = bookings.without(booking.owner.session_id)
    moves: list[SessionMove] = []
    waiting: list[Booking] = []
    for booking in hit:
        request = _request(booking, courses, preferred=False)
        therapists = free_at(request, booking.start_min, roster, bookings, policy)
        if therapists:
            moved = replace(booking, therapist_id=therapists[0])
            bookings = bookings.book(moved, policy.turnover_min)
            moves.append(SessionMove(booking.owner, booking, moved, same_day))
        else:
            waiting.append(booking)
    later: list[Booking] = []
    for booking in waiting:
        request = _request(booking, courses, preferred=True)
        assignment = assign_session(request, roster, bookings, policy)
        if assignment is None:
            later.append(booking)
        else:
            bookings = bookings.book(assignment.booking, policy.turnover_min)
            moves.append(SessionMove(booking.owner, booking, assignment.booking, same_day))
    shortages: list[Shortage] = []
    for course_id in _in_order(b.owner.course_id for b in later):
        course = courses[course_id]
        placement = place_course(course, roster, bookings, calendar, policy)
        bookings = placement.bookings
        if placement.shortage is not None:
            shortages.append(placement.shortage)
        mine = {b.owner.session_id: b for b in later if b.owner.course_id == course_id}
        rules = (later_day, following)
        moves += _course_moves(course, mine, placement.booked, placement.released, rules)
    return StaffMoves(_one_per_session(moves), tuple(shortages), roster, bookings)


def _no_longer_fitting(
    therapist_id: str, roster: Roster, bookings: Bookings, today: date
) -> tuple[Booking, ...]:
    hit = (
        booking
        for booking in bookings.of_therapist(therapist_id, today)
        if not roster.allows(therapist_id, booking.on, booking.start_min, booking.end_min)
    )
    return tuple(sorted(hit, key=lambda b: (b.on, b.start_min, b.owner.session_id)))


def _request(
    booking: Booking, courses: Mapping[str, CourseToPlace], *, preferred: bool
) -> SessionRequest:
    course = courses[booking.owner.course_id]
    return SessionRequest(
        booking.owner,
        booking.on,
        booking.duration_min,
        preferred_min=booking.start_min if preferred else None,
        physical_therapy_min=course.physical_therapy.get(booking.on),
    )


def _course_moves(
    course: CourseToPlace,
    hit: Mapping[str, Booking],
    booked: Iterable[Booking],
    released: Iterable[Booking],
    rules: tuple[tuple[RuleId, ...], tuple[RuleId, ...]],
) -> list[SessionMove]:
    """One move per session the fact or the cadence moved, in course order."""
    if missing := set(hit) - {session.session_id for session in course.sessions}:
        raise ValueError(f"{course.course_id} does not list {sorted(missing)}")
    to = {b.owner.session_id: b for b in booked}
    was = {b.owner.session_id: b for b in released} | dict(hit)
    moves: list[SessionMove] = []
    for session in course.sessions:
        session_id = session.session_id
        if session_id not in to and session_id not in was:
            continue
        owner = course.owner(session)
        moved_itself = session_id in hit or session_id not in was
        why = rules[0] if moved_itself else rules[1]
        moves.append(SessionMove(owner, was.get(session_id), to.get(session_id), why))
    return moves


def _one_per_session(moves: Iterable[SessionMove]) -> tuple[SessionMove, ...]:
    """A session moved twice (same day, then on with its course's cadence) moves once."""
    merged: dict[str, SessionMove] = {}
    for move in moves:
        first = merged.get(move.owner.session_id)
        if first is None:
            merged[move.owner.session_id] = move
        else:
            rules = tuple(dict.fromkeys(first.rules + move.rules))
            merged[move.owner.session_id] = replace(first, to_booking=move.to_booking, rules=rules)
    return tuple(merged.values())


def _in_order(course_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(course_ids))
