"""The planner's clinic Decider: staff events become staff facts, kept as a set (R-ROSTER)."""

from datetime import UTC, date, datetime, timedelta
from itertools import permutations
from typing import Any

from schemas.causes import Cause
from schemas.rules import RuleId
from services.planner.booking_rows import session_key
from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.capacity.roster import Roster, Stretch
from services.planner.clinic import (
    ClinicSessions,
    ClinicState,
    SessionsHit,
    StaffDecider,
    StaffFactReceived,
)
from services.planner.staff_commands import decode_planner_command
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.memory import InMemoryShell
from tests.staff_events import StaffFeed

MONDAY = date(2026, 11, 23)
CONTEXT = Context(today=MONDAY, now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
NORTH = StaffFeed("north")


def folded(events) -> ClinicState:
    decider, state = StaffDecider(), ClinicState()
    for event in events:
        verdict = decider.decide(state, decider.translate(event), CONTEXT)
        assert not isinstance(verdict, Rejected)
        state, _ = verdict
    return state


def test_a_roster_gives_the_therapist_hours_in_wall_clock_minutes() -> None:
    roster = folded([NORTH.rostered("T1", MONDAY)]).roster
    assert roster.stretches_on("T1", MONDAY) == (Stretch(480, 720), Stretch(780, 1020))
    assert roster.stretches_on("T1", MONDAY - timedelta(days=7)) == ()


def test_an_absence_empties_the_days_it_covers() -> None:
    state = folded([NORTH.rostered("T1", MONDAY), NORTH.absent("T1", MONDAY, MONDAY)])
    assert state.roster.stretches_on("T1", MONDAY) == ()


def test_the_state_is_the_same_whatever_the_arrival_order() -> None:
    events = [
        NORTH.rostered("T1", MONDAY), NORTH.absent("T1", MONDAY, MONDAY),
        NORTH.rostered("T2", MONDAY), NORTH.left("T2", MONDAY + timedelta(days=30)),
        NORTH.rostered("T1", MONDAY, [(1, "09:00", "10:00")], later_min=5),
    ]  # fmt: skip
    states = {folded(order) for order in permutations(events)}
    assert len(states) == 1


def test_a_fact_already_held_changes_nothing_and_says_nothing() -> None:
    decider, event = StaffDecider(), NORTH.rostered("T1", MONDAY)
    state = folded([event])
    assert decider.decide(state, decider.translate(event), CONTEXT) == (state, ())


def test_a_new_fact_is_told_as_an_output() -> None:
    decider = StaffDecider()
    fact = decider.translate(NORTH.absent("T1", MONDAY, MONDAY))
    verdict = decider.decide(folded([NORTH.rostered("T1", MONDAY)]), fact, CONTEXT)
    assert not isinstance(verdict, Rejected)
    assert verdict[1] == (StaffFactReceived(fact),)


def test_the_stored_text_gives_back_the_same_state_and_roster() -> None:
    state = folded([
        NORTH.rostered("T1", MONDAY), NORTH.absent("T1", MONDAY, MONDAY),
        NORTH.rostered("T2", MONDAY), NORTH.left("T2", MONDAY + timedelta(days=30)),
    ])  # fmt: skip
    again = ClinicState.from_json_text(state.to_json_text())
    assert again == state
    assert again.roster == Roster.from_facts(state.facts)


def booking(patient: str, therapist: str, on: date, course: str = "C1") -> Booking:
    return Booking(therapist, on, 540, 555, Owner(patient, course, session_key(patient, "s1")))


def with_bookings(
    *bookings: Booking, to_place: tuple[tuple[str, tuple[str, ...]], ...] = ()
) -> Context:
    shared = {"north": ClinicSessions(Bookings.of(bookings), to_place)}
    return Context(MONDAY, CONTEXT.now, shared, "north")


def test_an_absence_asks_each_patient_it_hits_to_have_the_courses_placed_again() -> None:
    decider = StaffDecider(topic="cmds")
    state = folded([NORTH.rostered("T1", MONDAY), NORTH.rostered("T2", MONDAY)])
    ctx = with_bookings(
        booking("P1", "T1", MONDAY), booking("P2", "T1", MONDAY + timedelta(days=7)),
        booking("P3", "T2", MONDAY), booking("P4", "T1", MONDAY - timedelta(days=7)),
    )  # fmt: skip
    fact = decider.translate(NORTH.absent("T1", MONDAY, MONDAY))
    verdict = decider.decide(state, fact, ctx)
    assert not isinstance(verdict, Rejected)
    hits = [o for o in verdict[1] if isinstance(o, SessionsHit)]
    assert [(h.patient_id, h.rule, h.course_ids) for h in hits] == [
        ("P1", RuleId.THERAPIST_ABSENT, ("C1",))
    ]
    decided = Decided("north", fact, verdict[0], tuple(verdict[1]), Cause("e-1", "c-1"))
    (message,) = decider.encode(decided)
    assert (message.topic, message.key) == ("cmds", b"P1")
    command = decode_planner_command(message.value)
    assert not isinstance(command, Rejected)
    assert command.data.course_ids == ("C1",)


def test_new_hours_hit_the_bookings_outside_them_naming_r_roster() -> None:
    decider = StaffDecider()
    state = folded([NORTH.rostered("T1", MONDAY)])
    later = decider.translate(NORTH.rostered("T1", MONDAY, [(0, "13:00", "17:00")], later_min=5))
    verdict = decider.decide(state, later, with_bookings(booking("P1", "T1", MONDAY)))
    assert not isinstance(verdict, Rejected)
    assert [o.rule for o in verdict[1] if isinstance(o, SessionsHit)] == [RuleId.ROSTER]


TO_PLACE = (("P5", ("C1",)), ("P1", ("C2", "C3")))  # never placed, or waiting (R-CAPACITY)


def hits_of(fact_event, ctx: Context) -> list[tuple[str, RuleId, tuple[str, ...]]]:
    decider = StaffDecider()
    state = folded([NORTH.rostered("T1", MONDAY)])
    verdict = decider.decide(state, decider.translate(fact_event), ctx)
    assert not isinstance(verdict, Rejected)
    hits = [o for o in verdict[1] if isinstance(o, SessionsHit)]
    return [(h.patient_id, h.rule, h.course_ids) for h in hits]


def test_hours_rostered_ask_every_patient_with_courses_to_place_to_have_them_placed() -> None:
    later = NORTH.rostered("T1", MONDAY, [(0, "13:00", "17:00")], later_min=5)
    ctx = with_bookings(booking("P1", "T1", MONDAY), to_place=TO_PLACE)
    assert hits_of(later, ctx) == [
        ("P1", RuleId.ROSTER, ("C1", "C2", "C3")),  # hit, and to place
        ("P5", RuleId.ROSTER, ("C1",)),
    ]
    new_therapist = NORTH.rostered("T2", MONDAY)
    assert hits_of(new_therapist, with_bookings(to_place=TO_PLACE)) == [
        ("P1", RuleId.ROSTER, ("C2", "C3")),
        ("P5", RuleId.ROSTER, ("C1",)),
    ]


def test_an_absence_or_a_leaving_adds_no_hours_and_asks_only_the_patients_it_hits() -> None:
    ctx = with_bookings(booking("P1", "T1", MONDAY), to_place=TO_PLACE)
    assert hits_of(NORTH.absent("T1", MONDAY, MONDAY), ctx) == [
        ("P1", RuleId.THERAPIST_ABSENT, ("C1",))
    ]
    assert hits_of(NORTH.left("T1", MONDAY - timedelta(days=1)), ctx) == [
        ("P1", RuleId.ROSTER, ("C1",))
    ]


def test_a_batch_of_rosters_asks_each_patient_once() -> None:
    decider = StaffDecider()
    shell: InMemoryShell[Any, Any, Any, Any] = InMemoryShell(
        decider, ClinicState(), lambda: CONTEXT, key_of=lambda event: event.data.clinic_id,
        shared={"north": ClinicSessions(Bookings(), TO_PLACE)},
    )  # fmt: skip
    shell.handle(*(NORTH.rostered(t, MONDAY) for t in ("T1", "T2", "T3")))
    commands = [decode_planner_command(message.value) for message in shell.outbox]
    asked = sorted((c.subject, c.data.course_ids) for c in commands if not isinstance(c, Rejected))
    assert asked == [("P1", ("C2", "C3")), ("P5", ("C1",))]
