"""R-CAPACITY: placing a course's sessions, each with a therapist and a start.

The sessions come in course order with the days the planner's cadence gave them. Each is
placed in turn with `assign_session`:
- R-PLAN-STABLE: a session that already holds a booking keeps it, unless an earlier
  session of this course moved so late that the cadence (R-CADENCE) no longer fits; then
  that booking is released and the session placed again, since the cadence continues from
  the day the earlier session actually fell on.
- A session is due on its planned day, or on the first open day the cadence allows after
  the previous session's actual day, whichever is later.
- R-CAPACITY: when no therapist is free on the due day, the session goes to the next open
  day with a free slot, up to `horizon_days` after the due day (both ends included). When
  none is free in that horizon, placing stops there with a `Shortage` naming the days
  tried: the course waits. The sessions placed before it are returned; the ones after it
  wait with it, so the bookings they held are released (they could not keep the cadence
  after a session that has no day).
- R-CONTINUITY: the course's therapist is the one given, else the therapist of its first
  held booking, else the one its first placed session got. A substitute on one day does
  not become the course's therapist.
- R-THERAPIST-ABSENT: a session a staff change took from its therapist aims at the start it
  had (`aims`), on its day, before the preferred time: another therapist at the same time
  first, else the nearest time that day, else a later day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from services.planner.cadence import Cadence, next_session_date
from services.planner.capacity.assign import Assignment, SessionRequest, assign_session
from services.planner.capacity.bookings import ONE_DAY, Booking, Bookings, Draft, Owner
from services.planner.capacity.policy import DEFAULT_CAPACITY_POLICY, CapacityPolicy

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import date

    from services.planner.calendar import ClinicCalendar
    from services.planner.capacity.roster import Roster
    from services.planner.plan import DatedSession


@dataclass(frozen=True, slots=True)
class CourseToPlace:
    patient_id: str
    course_id: str
    cadence: Cadence
    sessions: tuple[DatedSession, ...]  # not yet done, in course order, on their planned days
    preferred_min: int | None = None  # R-PREFERRED-TIME, local minutes since midnight
    # R-PT-BEFORE: the first physical-therapy start of each day that has one, local minutes.
    physical_therapy: Mapping[date, int] = field(default_factory=dict)
    therapist_id: str | None = None  # R-CONTINUITY: the therapist of its earlier sessions
    # R-THERAPIST-ABSENT: session id → (day, start) it held before a staff change took it.
    aims: Mapping[str, tuple[date, int]] = field(default_factory=dict)

    def owner(self, session: DatedSession) -> Owner:
        return Owner(self.patient_id, self.course_id, session.session_id)

    def request(self, session: DatedSession, day: date, therapist_id: str | None) -> SessionRequest:
        aim = self.aims.get(session.session_id)
        return SessionRequest(
            self.owner(session),
            day,
            session.duration_min,
            preferred_min=aim[1] if aim is not None and aim[0] == day else self.preferred_min,
            physical_therapy_min=self.physical_therapy.get(day),
            therapist_id=therapist_id,
        )


@dataclass(frozen=True, slots=True)
class Moved:
    """A session placed on another day than planned or held (R-CAPACITY)."""

    session_id: str
    from_on: date
    to_on: date


@dataclass(frozen=True, slots=True)
class Shortage:
    """R-CAPACITY: nobody free for this session on any of these days; the course waits."""

    course_id: str
    session_id: str
    days_tried: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class Placement:
    booked: tuple[Booking, ...]  # the new bookings, in course order
    released: tuple[Booking, ...]  # held bookings given up for the cadence or while waiting
    moved: tuple[Moved, ...]
    shortage: Shortage | None
    bookings: Bookings  # all bookings held afterwards


def place_course(
    course: CourseToPlace,
    roster: Roster,
    bookings: Bookings,
    calendar: ClinicCalendar,
    policy: CapacityPolicy = DEFAULT_CAPACITY_POLICY,
) -> Placement:
    """Books the course's sessions that hold no booking in `bookings`."""
    draft = Draft(bookings)
    therapist_id = course.therapist_id or _first_held_therapist(course, draft)
    booked: list[Booking] = []
    released: list[Booking] = []
    moved: list[Moved] = []
    previous: date | None = None
    for session in course.sessions:
        due = _due(session.on, previous, course.cadence, calendar)
        held = draft.of_session(session.session_id)
        if held is not None:
            if held.on >= due:
                previous = held.on
                continue
            draft.without(session.session_id)
            released.append(held)
        requests = (
            course.request(session, day, therapist_id)
            for day in _open_days_within_horizon(due, calendar, policy)
        )
        assignment, tried = _first_free_day(requests, roster, draft, policy)
        if assignment is None:
            shortage = Shortage(course.course_id, session.session_id, tried)
            waiting = _held_after(course, session, draft)
            for held_later in waiting:
                draft.without(held_later.owner.session_id)
            released += waiting
            return Placement(
                tuple(booked), tuple(released), tuple(moved), shortage, draft.bookings()
            )
        booking = assignment.booking
        draft.book(booking, policy.turnover_min)
        booked.append(booking)
        was_on = session.on if held is None else held.on
        if booking.on != was_on:
            moved.append(Moved(session.session_id, was_on, booking.on))
        therapist_id = therapist_id or booking.therapist_id
        previous = booking.on
    return Placement(tuple(booked), tuple(released), tuple(moved), None, draft.bookings())


def days_within_horizon(
    due: date, calendar: ClinicCalendar, policy: CapacityPolicy
) -> tuple[date, ...]:
    """The open days a session due on `due` may take (R-CAPACITY)."""
    return tuple(_open_days_within_horizon(due, calendar, policy))


def _open_days_within_horizon(
    due: date, calendar: ClinicCalendar, policy: CapacityPolicy
) -> Iterator[date]:
    """`days_within_horizon` one by one: a session mostly takes the first."""
    return (day for day in _days_from(due, policy.horizon_days + 1) if calendar.is_open(day))


def _days_from(first: date, count: int) -> Iterator[date]:
    day = first
    for _ in range(count):
        yield day
        day += ONE_DAY


def _due(planned: date, previous: date | None, cadence: Cadence, calendar: ClinicCalendar) -> date:
    if previous is None:
        return calendar.next_open_on_or_after(planned)
    return max(
        calendar.next_open_on_or_after(planned), next_session_date(previous, cadence, calendar)
    )


def _first_free_day(
    requests: Iterable[SessionRequest],
    roster: Roster,
    bookings: Draft,
    policy: CapacityPolicy,
) -> tuple[Assignment | None, tuple[date, ...]]:
    tried: list[date] = []
    for request in requests:
        tried.append(request.on)
        if (assignment := assign_session(request, roster, bookings, policy)) is not None:
            return assignment, tuple(tried)
    return None, tuple(tried)


def _held_after(course: CourseToPlace, session: DatedSession, bookings: Draft) -> list[Booking]:
    later = course.sessions[course.sessions.index(session) + 1 :]
    held = (bookings.of_session(s.session_id) for s in later)
    return [booking for booking in held if booking is not None]


def _first_held_therapist(course: CourseToPlace, bookings: Draft) -> str | None:
    held = (bookings.of_session(session.session_id) for session in course.sessions)
    return next((booking.therapist_id for booking in held if booking is not None), None)
