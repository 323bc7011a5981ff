"""R-CAPACITY: time a patient gives up goes to the courses waiting in the clinic. The decision
that gives up bookings tells each patient whose course waits, on the planner's own topic;
that patient's own decision places the course and reschedules it naming R-CAPACITY. A
placement asked for this way tells nobody in turn, so nothing echoes."""

from typing import Any

from schemas.causes import Cause
from schemas.rules import RuleId
from schemas.topics import PLANNER_COMMANDS
from services.planner.decider import PlannerDecider
from services.planner.outputs import Rescheduled
from services.planner.staff_commands import SessionsUnstaffed, decode_planner_command
from services.planner.staffing import BookingsChanged, CapacityFreed, ClinicCapacity
from services.planner.state import PatientState
from services.runtime.decider import Context, Decided
from tests.clinic_events import ClinicFeed
from tests.unit.test_planner_decider import D, planner
from tests.unit.test_planner_staffing import context, course_events, fed, north

# One therapist, time for one session a day: a second daily course finds no day free.
ONE_A_DAY = [(weekday, "08:00", "08:15") for weekday in range(6)]


def shared(decider: PlannerDecider, capacity: ClinicCapacity, *decided: Decided[Any, Any, Any]):
    clinics: Any = {"north": capacity}
    for one in decided:
        clinics = decider.share(clinics, one)
    capacity_after: ClinicCapacity = clinics["north"]
    return capacity_after


def daily_course(decider: PlannerDecider, feed: ClinicFeed, capacity: ClinicCapacity, course: str):
    ctx = context(capacity, feed.patient)
    enrolled = fed(decider, PatientState(), feed.enrolled(D), ctx)
    return fed(decider, enrolled.state, feed.prescribed(D, course, cadence="daily"), ctx)


def placed_again(
    decider: PlannerDecider, state: PatientState, command: SessionsUnstaffed, ctx: Context
) -> Decided[Any, Any, Any]:
    unstaffed = decider.translate(command)
    verdict = decider.decide(state, unstaffed, ctx)
    assert isinstance(verdict, tuple), verdict
    return Decided(ctx.key, unstaffed, verdict[0], tuple(verdict[1]), Cause(command.id, "c-1"))


def one_placed_one_waiting() -> tuple[PlannerDecider, ClinicFeed, Decided[Any, Any, Any], Any]:
    """P-1's daily course takes every morning; P-2's, prescribed next, waits whole."""
    decider, first, second = planner(), ClinicFeed(patient="P-1"), ClinicFeed(patient="P-2")
    capacity = north("T1", hours=ONE_A_DAY)
    placed = daily_course(decider, first, capacity, "C1")
    waits = daily_course(decider, second, shared(decider, capacity, placed), "C2")
    (scheduled,) = course_events(waits)
    assert scheduled.capacity_shortage_on == tuple(s.on for s in scheduled.sessions)
    assert waits.state.courses_to_place == ("C2",)
    after = shared(decider, capacity, placed, waits)
    # The rows the next batch reads: P-2's course to place beside the bookings.
    waiting = ClinicCapacity(after.roster, after.bookings, (("P-2", ("C2",)),))
    return decider, first, placed, (waits, waiting)


def commands(decider: PlannerDecider, decided: Decided[Any, Any, Any]) -> list[SessionsUnstaffed]:
    told = [m for m in decider.encode(decided) if m.topic == PLANNER_COMMANDS]
    decoded = [decode_planner_command(m.value) for m in told]
    assert all(isinstance(command, SessionsUnstaffed) for command in decoded), decoded
    return [c for c in decoded if isinstance(c, SessionsUnstaffed)]


def test_a_course_given_up_tells_the_waiting_patient_whose_course_is_then_placed() -> None:
    decider, first, placed, (waits, waiting) = one_placed_one_waiting()
    cancelled = fed(decider, placed.state, first.surgery(D), context(waiting, "P-1"))  # R-POSTOP
    (command,) = commands(decider, cancelled)
    assert command.subject == "P-2"
    assert (command.data.clinic_id, command.data.rule, command.data.course_ids) == (
        "north", "R-CAPACITY", ("C2",),
    )  # fmt: skip
    freed = shared(decider, waiting, cancelled)
    result = placed_again(decider, waits.state, command, context(freed, "P-2"))
    (rescheduled,) = [t.output for t in result.outputs if isinstance(t.output, Rescheduled)]
    assert rescheduled.rules.count(RuleId.CAPACITY) == 1
    assert rescheduled.capacity_shortage_on == ()
    assert all(s.therapist_id == "T1" and s.starts_at is not None for s in rescheduled.sessions)
    assert {c.session_id for c in rescheduled.changes} == {
        s.session_id for s in rescheduled.sessions
    }
    assert result.state.courses_to_place == ()


def test_a_placement_asked_for_tells_nobody_and_nor_does_a_decision_giving_up_nothing() -> None:
    decider, first, placed, (waits, waiting) = one_placed_one_waiting()
    also = ClinicCapacity(waiting.roster, waiting.bookings, (*waiting.waiting, ("P-3", ("C3",))))
    cancelled = fed(decider, placed.state, first.surgery(D), context(also, "P-1"))
    (command, _) = commands(decider, cancelled)
    ctx = context(shared(decider, also, cancelled), "P-2")
    asked_for = placed_again(decider, waits.state, command, ctx)
    assert course_events(asked_for)  # placed, and P-3 still waits: yet nobody is told
    assert not any(isinstance(t.output, CapacityFreed) for t in asked_for.outputs)
    assert commands(decider, asked_for) == []
    # A decision that only books gives up nothing.
    booking_only = daily_course(decider, ClinicFeed(patient="P-4"), also, "C4")
    assert commands(decider, booking_only) == []


def test_each_waiting_patient_is_told_once_a_batch_and_never_by_itself() -> None:
    decider, first, placed, (_, waiting) = one_placed_one_waiting()
    with_p1 = ClinicCapacity(waiting.roster, waiting.bookings, (("P-1", ("C9",)), *waiting.waiting))
    cancelled = fed(decider, placed.state, first.surgery(D), context(with_p1, "P-1"))
    assert [c.subject for c in commands(decider, cancelled)] == ["P-2"]
    after = shared(decider, with_p1, cancelled)
    assert after.waiting == (("P-1", ("C9",)),)  # P-2 asked already in this batch
    assert not any(b.owner.patient_id == "P-1" for b in after.bookings)  # its mornings freed


def test_no_more_are_told_than_bookings_given_up_taken_round_from_the_deciding_patient() -> None:
    """A clinic short of time may have hundreds waiting: a decision tells as many as it gave
    up bookings, in patient id order from its own patient's on, round the end."""
    decider, first, placed, (_, waiting) = one_placed_one_waiting()
    many = tuple((f"P-{n:02d}", ("C1",)) for n in range(18))  # "P-1" falls between 09 and 10
    crowded = ClinicCapacity(waiting.roster, waiting.bookings, many)
    cancelled = fed(decider, placed.state, first.surgery(D), context(crowded, "P-1"))
    (change,) = [t.output for t in cancelled.outputs if isinstance(t.output, BookingsChanged)]
    assert len(change.freed) == 15  # the course's every session
    told = [command.subject for command in commands(decider, cancelled)]
    assert told == [f"P-{n:02d}" for n in (*range(10, 18), *range(7))]
