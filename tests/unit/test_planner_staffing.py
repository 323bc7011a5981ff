"""R-CAPACITY in the patient path: with a roster, the core's sessions get a therapist and a
start; without one the planner decides exactly as before (the other planner tests)."""

from dataclasses import fields, replace
from datetime import datetime, time, timedelta
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

from schemas.causes import Cause
from schemas.codec import parse_event
from schemas.schedule import CourseScheduled
from services.planner.booking_rows import session_key
from services.planner.capacity.bookings import Booking, Bookings, Owner, conflict
from services.planner.capacity.clock import minute_of_day
from services.planner.capacity.roster import Roster
from services.planner.clinic import StaffDecider
from services.planner.decider import PlannerDecider
from services.planner.outputs import (
    Cancelled,
    CourseEvent,
    PlannedSession,
    Rescheduled,
    Scheduled,
)
from services.planner.staffing import BookingsChanged, ClinicCapacity, shown_session
from services.planner.state import PatientState, Placed
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.memory import InMemoryShell
from tests.clinic_events import ClinicFeed
from tests.staff_events import StaffFeed
from tests.unit.test_planner_decider import NOW, D, command_of, planner

NORTH = StaffFeed("north")
SIX_DAYS = [(weekday, "08:00", "12:00") for weekday in range(6)]


def north(*therapists: str, hours: list[tuple[int, str, str]] = SIX_DAYS) -> ClinicCapacity:
    decider = StaffDecider()
    facts = [decider.translate(NORTH.rostered(t, D - timedelta(days=7), hours)) for t in therapists]
    return ClinicCapacity(Roster.from_facts(facts), Bookings())


def context(capacity: ClinicCapacity | None, key: str = "P-1") -> Context:
    return Context(D, NOW, None if capacity is None else {"north": capacity}, key)


def fed(
    decider: PlannerDecider, state: PatientState, event: Any, ctx: Context
) -> Decided[Any, Any, Any]:
    command = command_of(decider, event)
    verdict = decider.decide(state, command, ctx)
    assert not isinstance(verdict, Rejected), verdict
    state, outputs = verdict
    return Decided(ctx.key, command, state, tuple(outputs), _cause(event))


def _cause(event: Any) -> Cause:
    return Cause(event.id, "correlation-1")


def prescribed(capacity: ClinicCapacity | None, feed: ClinicFeed | None = None):
    decider, feed = planner(), feed or ClinicFeed()
    ctx = context(capacity)
    enrolled = fed(decider, PatientState(), feed.enrolled(D), ctx)
    return decider, feed, fed(decider, enrolled.state, feed.prescribed(D, "C1"), ctx)


def course_events(decided: Decided[Any, Any, Any]) -> list[CourseEvent]:
    return [t.output for t in decided.outputs if isinstance(t.output, CourseEvent)]


def test_every_session_gets_a_therapist_and_a_start_inside_the_hours() -> None:
    _, _, result = prescribed(north("T1"))
    (scheduled,) = course_events(result)
    assert isinstance(scheduled, Scheduled)
    for session in scheduled.sessions:
        assert session.therapist_id == "T1"
        assert session.starts_at is not None
        local = session.starts_at.astimezone(planner().calendar.zone)
        assert local.date() == session.on
        assert 8 * 60 <= minute_of_day(local.time()) <= 12 * 60 - session.duration_min
    (change,) = [t.output for t in result.outputs if isinstance(t.output, BookingsChanged)]
    assert len(change.booked) == len(scheduled.sessions)
    assert change.freed == ()


def test_the_published_sessions_name_their_therapist() -> None:
    decider, _, result = prescribed(north("T1"))
    (message,) = decider.encode(result)
    event = parse_event(message.value)
    assert isinstance(event, CourseScheduled)
    assert {s.therapist_id for s in event.data.sessions} == {"T1"}


def test_without_a_roster_the_plan_is_the_same_as_before() -> None:
    feed = ClinicFeed()
    _, _, without = prescribed(None, feed)
    _, _, empty_clinic = prescribed(ClinicCapacity(Roster(), Bookings()), feed)
    (dated,), (waiting,) = course_events(without), course_events(empty_clinic)
    assert waiting.sessions == dated.sessions  # nobody to give a session: they all wait
    assert all(s.therapist_id is None for s in dated.sessions)
    assert dated.capacity_shortage_on == ()
    assert waiting.capacity_shortage_on == tuple(s.on for s in dated.sessions)


def test_patients_of_one_batch_never_share_a_therapists_time() -> None:
    decider = planner()
    shell: InMemoryShell[Any, Any, Any, Any] = InMemoryShell(
        decider,
        PatientState(),
        lambda: Context(D, NOW),
        shared={"north": north("T1", hours=[(d, "08:00", "09:00") for d in range(6)])},
    )
    feeds = [ClinicFeed() for _ in range(4)]
    shell.handle(*(e for f in feeds for e in (f.enrolled(D), f.prescribed(D, "C1"))))
    bookings = list(shell.shared["north"].bookings)
    assert bookings
    for first, second in combinations(bookings, 2):
        assert not conflict(first, second, decider.capacity_policy.turnover_min)
    assert {b.owner.patient_id for b in bookings} == {f.patient for f in feeds}


def test_a_decision_that_changes_no_plan_keeps_every_placement() -> None:
    decider, feed, result = prescribed(north("T1", "T2"))
    ctx = context(ClinicCapacity(north("T1", "T2").roster, Bookings.of(_booked(result))))
    again = fed(decider, result.state, feed.enrolled(D + timedelta(days=1)), ctx)
    assert again.state.placements == result.state.placements
    assert not [t for t in again.outputs if isinstance(t.output, BookingsChanged)]


def test_a_cancelled_course_frees_its_bookings() -> None:
    decider, feed, result = prescribed(north("T1"))
    ctx = context(ClinicCapacity(north("T1").roster, Bookings.of(_booked(result))))
    withdrawn = feed.event("clinic.patient.withdrawn", D, {"reason": "moved"})
    cancelled = fed(decider, result.state, withdrawn, ctx)
    assert any(isinstance(o, Cancelled) for o in course_events(cancelled))
    (change,) = [t.output for t in cancelled.outputs if isinstance(t.output, BookingsChanged)]
    assert change.booked == ()
    assert len(change.freed) == len(result.state.placements)
    assert cancelled.state.placements == ()


def _booked(decided: Decided[Any, Any, Any]) -> list[Any]:
    return [
        b for t in decided.outputs if isinstance(t.output, BookingsChanged) for b in t.output.booked
    ]


def test_a_shown_session_changes_day_start_and_therapist_only() -> None:
    # `shown_session` builds the session field by field (it runs for every session of every
    # event); a field PlannedSession gains must be carried there too, and named here.
    assert [f.name for f in fields(PlannedSession)] == [
        "session_id", "number", "on", "starts_at", "duration_min", "notes", "sequence",
        "therapist_id",
    ]  # fmt: skip
    zone = ZoneInfo("Europe/Vienna")
    tuesday, wednesday = D + timedelta(days=1), D + timedelta(days=2)
    session = PlannedSession("C1-s03", 3, tuesday, None, 9, ("R-PT-BEFORE",), ("massage",))
    placement = Placed("C1", "C1-s03", tuesday, "T2", wednesday, 9 * 60 + 40, 9 * 60 + 49)
    shown = shown_session(session, placement, (), zone)
    starts_at = datetime.combine(wednesday, time(9, 40), tzinfo=zone)
    assert shown == replace(session, on=wednesday, starts_at=starts_at, therapist_id="T2")
    assert shown_session(session, None, (tuesday,), zone) == replace(session, starts_at=None)
    assert shown_session(session, None, (), zone) is session


def test_a_course_an_outcome_moves_keeps_its_therapist_where_that_therapist_is_free() -> None:
    # R-CONTINUITY: T1 gives the course. Another patient then books T1 at 11:00 every day, so
    # T2 has fewer bookings on every day; the first session, performed two days late, moves
    # every later session (R-CADENCE), and T1, still free at 8:00, keeps giving them all.
    decider, feed, result = prescribed(north("T1", "T2"))
    (scheduled,) = course_events(result)
    assert {s.therapist_id for s in scheduled.sessions} == {"T1"}
    others = [
        Booking("T1", D + timedelta(days=n), 11 * 60, 11 * 60 + 15,
                Owner("P-X", "CX", session_key("P-X", f"CX-s{n:02d}")))
        for n in range(60)
    ]  # fmt: skip
    capacity = ClinicCapacity(north("T1", "T2").roster, Bookings.of([*_booked(result), *others]))
    first = scheduled.sessions[0]
    late = datetime.combine(first.on + timedelta(days=2), time(9), tzinfo=ZoneInfo("UTC"))
    data = {"course_id": "C1", "session_id": first.session_id, "performed_at": late.isoformat()}
    performed = feed.event("clinic.session.completed", late.date(), data)
    ctx = Context(late.date(), late, {"north": capacity}, "P-1")
    moved = fed(decider, result.state, performed, ctx)
    (rescheduled,) = course_events(moved)
    assert isinstance(rescheduled, Rescheduled)
    assert {c.session_id for c in rescheduled.changes if c.from_on != c.to_on} == {
        s.session_id for s in rescheduled.sessions
    }
    assert {s.therapist_id for s in rescheduled.sessions} == {"T1"}
