"""R-CAPACITY shortage in the patient path: sessions nobody can give within the horizon wait,
every event of their course names their days, and the event reporting new days names
R-CAPACITY (staff are told once per cause); review flags show placements like other events;
days before the loaded bookings are neither placed nor reported."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from schemas.codec import new_event, parse_event
from schemas.rules import RuleId
from schemas.schedule import CourseReviewRequested, CourseScheduled
from services.planner.capacity.bookings import Bookings
from services.planner.capacity.roster import Roster
from services.planner.clinic import StaffDecider
from services.planner.decider import PlannerDecider
from services.planner.outputs import CourseEvent, Rescheduled, ReviewFlag, Scheduled
from services.planner.staff_commands import SessionsUnstaffed
from services.planner.staffing import BookingsChanged, ClinicCapacity
from services.planner.state import PatientState
from services.runtime.decider import Context, Decided
from tests.clinic_events import ClinicFeed
from tests.staff_events import StaffFeed
from tests.unit.test_planner_decider import NOW, D, planner
from tests.unit.test_planner_staffing import SIX_DAYS, context, course_events, fed, prescribed

NORTH = StaffFeed("north")
LAST_DAY = D + timedelta(days=9)  # T1 leaves then: later sessions find nobody


def clinic(*events: Any, bookings: Bookings | None = None) -> ClinicCapacity:
    decider = StaffDecider()
    facts = [decider.translate(event) for event in events]
    return ClinicCapacity(Roster.from_facts(facts), bookings or Bookings())


def leaving() -> ClinicCapacity:
    rostered = NORTH.rostered("T1", D - timedelta(days=7), SIX_DAYS)
    return clinic(rostered, NORTH.left("T1", LAST_DAY))


def booked(decided: Decided[Any, Any, Any]) -> Bookings:
    changes = [t.output for t in decided.outputs if isinstance(t.output, BookingsChanged)]
    return Bookings.of(b for change in changes for b in change.booked)


def with_bookings(capacity: ClinicCapacity, bookings: Bookings) -> ClinicCapacity:
    return ClinicCapacity(capacity.roster, bookings)


def unstaffed(
    patient: str, course_ids: tuple[str, ...], clinic_id: str = "north"
) -> SessionsUnstaffed:
    data = {"clinic_id": clinic_id, "therapist_id": "T1", "rule": "R-ROSTER",
            "course_ids": course_ids}  # fmt: skip
    return new_event(
        SessionsUnstaffed, source="/courseflow/planner", subject=patient, time=NOW, data=data
    )


def decided_by(
    decider: PlannerDecider, state: PatientState, command: Any, ctx: Context
) -> tuple[PatientState, list[Any]]:
    verdict = decider.decide(state, decider.translate(command), ctx)
    assert isinstance(verdict, tuple), verdict
    return verdict[0], [t.output for t in verdict[1]]


def test_sessions_nobody_can_give_within_the_horizon_wait_and_the_event_names_their_days() -> None:
    decider, _, result = prescribed(leaving())
    (scheduled,) = course_events(result)
    assert isinstance(scheduled, Scheduled)
    waiting = [s for s in scheduled.sessions if s.on > LAST_DAY]
    assert waiting
    assert all(s.therapist_id is None and s.starts_at is None for s in waiting)
    assert all(s.therapist_id == "T1" for s in scheduled.sessions if s.on <= LAST_DAY)
    assert scheduled.capacity_shortage_on == tuple(s.on for s in waiting)
    assert RuleId.CAPACITY in scheduled.rules
    (message,) = decider.encode(result)
    event = parse_event(message.value)
    assert isinstance(event, CourseScheduled)
    assert event.data.capacity_shortage_on == tuple(s.on for s in waiting)
    assert RuleId.CAPACITY in event.data.rules


def test_a_shortage_already_reported_is_shown_again_but_not_named_again() -> None:
    capacity = leaving()
    decider, feed, result = prescribed(capacity)
    (scheduled,) = course_events(result)
    second = scheduled.sessions[1]
    starts_at = datetime.combine(second.on, time(11), tzinfo=UTC)
    data = {"appointment_id": "A1", "starts_at": starts_at.isoformat()}
    therapy = feed.event("clinic.physical_therapy.booked", D, data)
    ctx = context(with_bookings(capacity, booked(result)))
    again = fed(decider, result.state, therapy, ctx)
    (rescheduled,) = course_events(again)
    assert rescheduled.capacity_shortage_on == scheduled.capacity_shortage_on
    assert RuleId.CAPACITY not in rescheduled.rules


def test_without_a_shortage_no_event_names_days() -> None:
    _, _, result = prescribed(clinic(NORTH.rostered("T1", D - timedelta(days=7), SIX_DAYS)))
    (scheduled,) = course_events(result)
    assert scheduled.capacity_shortage_on == ()
    assert RuleId.CAPACITY not in scheduled.rules
    assert result.state.waiting == ()


def test_a_review_request_shows_each_session_with_its_therapist_and_time() -> None:
    capacity = leaving()
    decider, feed, result = prescribed(capacity)
    state, bookings = result.state, booked(result)
    for _ in range(2):
        first = state.published[0].sessions[0]
        data = {"course_id": "C1", "session_id": first.session_id, "reason": "severe_pain"}
        ctx = context(with_bookings(capacity, bookings))
        result = fed(decider, state, feed.event("clinic.session.not_performed", D, data), ctx)
        state = result.state
        for change in (t.output for t in result.outputs):
            if isinstance(change, BookingsChanged):
                bookings = ClinicCapacity(capacity.roster, bookings).changed_by(change).bookings
    assert any(isinstance(t.output, ReviewFlag) for t in result.outputs)
    events = [parse_event(m.value) for m in decider.encode(result)]
    (review,) = [e for e in events if isinstance(e, CourseReviewRequested)]
    placed = [s for s in review.data.sessions if s.on <= LAST_DAY]
    assert placed
    assert all(s.therapist_id == "T1" and s.starts_at is not None for s in placed)
    assert review.data.capacity_shortage_on == tuple(
        s.on for s in review.data.sessions if s.on > LAST_DAY
    )


def test_a_new_therapist_gets_the_waiting_sessions_placed_and_the_course_rescheduled() -> None:
    capacity = leaving()
    decider, _, result = prescribed(capacity)
    more = clinic(
        NORTH.rostered("T1", D - timedelta(days=7), SIX_DAYS), NORTH.left("T1", LAST_DAY),
        NORTH.rostered("T2", D - timedelta(days=7), SIX_DAYS), bookings=booked(result),
    )  # fmt: skip
    state, outputs = decided_by(decider, result.state, unstaffed("P-1", ("C1",)), context(more))
    (rescheduled,) = [o for o in outputs if isinstance(o, Rescheduled)]
    assert rescheduled.rules[0] == RuleId.ROSTER
    assert rescheduled.capacity_shortage_on == ()
    assert all(s.therapist_id is not None for s in rescheduled.sessions)
    assert {c.to_therapist_id for c in rescheduled.changes} == {"T2"}
    assert state.waiting == ()


def test_a_first_roster_that_leaves_sessions_waiting_is_never_silent() -> None:
    decider, feed = planner(), ClinicFeed()
    ctx = context(None)
    enrolled = fed(decider, PatientState(), feed.enrolled(D), ctx)
    dated = fed(decider, enrolled.state, feed.prescribed(D, "C1"), ctx)
    late = clinic(NORTH.rostered("T1", D + timedelta(days=60), SIX_DAYS))  # nobody before then
    state, outputs = decided_by(decider, dated.state, unstaffed("P-1", ("C1",)), context(late))
    (rescheduled,) = [o for o in outputs if isinstance(o, CourseEvent)]
    assert isinstance(rescheduled, Rescheduled)
    assert rescheduled.rules == (RuleId.ROSTER, RuleId.CAPACITY)
    assert rescheduled.changes == ()
    assert rescheduled.capacity_shortage_on == tuple(s.on for s in rescheduled.sessions)
    again, told = decided_by(decider, state, unstaffed("P-1", ("C1",)), context(late))
    assert told == []  # the same days: nothing new to tell
    assert again == state


def test_a_command_about_another_clinic_leaves_the_patient_as_it_is() -> None:
    decider, _, result = prescribed(leaving())
    more = clinic(
        NORTH.rostered("T1", D - timedelta(days=7), SIX_DAYS), NORTH.left("T1", LAST_DAY),
        NORTH.rostered("T2", D - timedelta(days=7), SIX_DAYS), bookings=booked(result),
    )  # fmt: skip
    command = unstaffed("P-1", ("C1",), clinic_id="south")  # the patient is of north
    assert decided_by(decider, result.state, command, context(more)) == (result.state, [])


def test_past_days_keep_their_placements_and_are_never_placed_anew() -> None:
    capacity = clinic(NORTH.rostered("T1", D - timedelta(days=7), SIX_DAYS))
    decider, feed, result = prescribed(capacity)
    today = D + timedelta(days=10)
    since = today - timedelta(days=1)
    loaded = Bookings.of(b for b in booked(result) if b.on >= since)  # as the repository loads
    now = NOW + timedelta(days=10)
    later = Context(today, now, {"north": with_bookings(capacity, loaded)}, "P-1")
    (upcoming, *_) = [s for s in result.state.published[0].sessions if s.on > today]
    starts_at = datetime.combine(upcoming.on, time(11), tzinfo=UTC)
    data = {"appointment_id": "A1", "starts_at": starts_at.isoformat()}
    moved = fed(decider, result.state, feed.event("clinic.physical_therapy.booked", D, data), later)
    assert course_events(moved)  # the course was placed again
    past = [p for p in result.state.placements if p.on < since]
    assert past
    assert all(p in moved.state.placements for p in past)
    for change in (t.output for t in moved.outputs if isinstance(t.output, BookingsChanged)):
        assert all(b.on >= since for b in change.booked)

    dated = fed(decider, result.state, feed.enrolled(D), context(None))  # no roster: date-only
    unplaced = PatientState(**{**_fields(dated.state), "placements": (), "waiting": ()})
    first = Context(today, now, {"north": capacity}, "P-1")
    state, outputs = decided_by(decider, unplaced, unstaffed("P-1", ("C1",)), first)
    (rescheduled,) = [o for o in outputs if isinstance(o, Rescheduled)]
    assert rescheduled.capacity_shortage_on == ()
    for session in rescheduled.sessions:
        assert (session.therapist_id is None) == (session.on < since)
    assert all(p.on >= since for p in state.placements)


def _fields(state: PatientState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in state.__dataclass_fields__}


def test_the_courses_to_place_are_those_never_placed_or_waiting() -> None:
    _, _, dated = prescribed(None)
    assert dated.state.courses_to_place == ("C1",)  # the clinic had no roster
    _, _, placed = prescribed(clinic(NORTH.rostered("T1", D - timedelta(days=7), SIX_DAYS)))
    assert placed.state.courses_to_place == ()
    _, _, short = prescribed(leaving())
    assert short.state.courses_to_place == ("C1",)
