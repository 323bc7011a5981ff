"""The planner Decider without I/O: wire events translated, decided and encoded."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from schemas.causes import Cause
from schemas.clinic import ClinicEvent
from schemas.codec import new_event, parse_event, to_bytes
from schemas.eligibility import EligibilityDecided
from schemas.envelope import Envelope
from schemas.schedule import CourseScheduled
from services.planner.calendar import ClinicCalendar
from services.planner.commands import (
    Command,
    EligibilityChanged,
    PrescribeCourse,
    SessionCompleted,
    Tick,
    UpdateProfile,
)
from services.planner.decider import NOT_A_DECISION, PlannerDecider, Timed, decode_decision
from services.planner.outputs import ArmReminder, Completed, NextDue, Scheduled
from services.planner.policy import DEFAULT_POLICY, PlannerPolicy
from services.planner.screening import OTHER_TERMS, UNKNOWN_COURSE, UNKNOWN_SESSION
from services.planner.state import PatientState
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.outbox import OutboxMessage
from services.runtime.wire import decode_clinic_event
from tests.clinic_events import ClinicFeed

D = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
TODAY = Context(D, NOW)
SOURCE = "/courseflow/planner"
TOPIC = "courseflow.schedule"


def planner(policy: PlannerPolicy = DEFAULT_POLICY) -> PlannerDecider:
    return PlannerDecider(ClinicCalendar("Europe/Berlin"), policy, SOURCE, TOPIC)


def command_of(decider: PlannerDecider, event: Envelope) -> Command:
    command = decider.translate(decoded(event))
    assert command is not None
    return command


def decoded(event: Envelope) -> ClinicEvent | EligibilityDecided:
    """The event as the pipeline hands it to `translate` (each topic's decoder)."""
    raw = to_bytes(event)
    decision = decode_decision(raw)
    if isinstance(decision, EligibilityDecided):
        return decision
    clinic_event = decode_clinic_event(raw)
    assert not isinstance(clinic_event, Rejected)
    return clinic_event


def decided(
    decider: PlannerDecider, state: PatientState, command: Command, context: Context = TODAY
) -> Decided[Command, PatientState, Timed]:
    verdict = decider.decide(state, command, context)
    assert not isinstance(verdict, Rejected), verdict
    new_state, outputs = verdict
    cause = Cause(command.event_id, "correlation-1")
    return Decided("P-1", command, new_state, tuple(outputs), cause)


def enrolled(decider: PlannerDecider, feed: ClinicFeed) -> PatientState:
    return decided(decider, PatientState(), command_of(decider, feed.enrolled(D))).state


def published(messages: Sequence[OutboxMessage]) -> list[Envelope]:
    return [parse_event(message.value) for message in messages]


def test_clinic_events_and_decisions_become_commands_and_other_types_are_rejected() -> None:
    decider, feed = planner(), ClinicFeed(patient="P-1")
    assert isinstance(command_of(decider, feed.enrolled(D)), UpdateProfile)
    assert isinstance(command_of(decider, feed.prescribed(D, "C1")), PrescribeCourse)
    assert decider.translate(decoded(feed.flare(D))) is None  # it reaches the planner as a decision
    decision = new_event(
        EligibilityDecided, source="/courseflow/eligibility", subject="P-1", time=NOW,
        data={"eligible": True, "eligible_from": None, "blocks": [], "restrictions": [],
              "version": 1, "history": []},
    )  # fmt: skip
    changed = command_of(decider, decision)
    assert isinstance(changed, EligibilityChanged)
    assert (changed.eligible, changed.version) == (True, 1)
    schedule_event = new_event(
        CourseScheduled, source=SOURCE, subject="P-1", time=NOW,
        data={"course_id": "C1", "status": "pending", "version": 1, "rules": [],
              "sessions": [], "completed_sessions": 0},
    )  # fmt: skip
    assert decode_decision(to_bytes(schedule_event)) == Rejected(NOT_A_DECISION)
    assert decode_decision(to_bytes(feed.enrolled(D))) == Rejected(NOT_A_DECISION)


def test_a_prescription_is_scheduled_and_published_at_the_moment_it_was_decided() -> None:
    decider, feed = planner(), ClinicFeed(patient="P-1")
    prescription = feed.prescribed(D, "C1")
    result = decided(decider, enrolled(decider, feed), command_of(decider, prescription))
    (timed,) = result.outputs
    assert isinstance(timed.output, Scheduled)
    assert timed.at == NOW
    assert [p.course_id for p in result.state.prescriptions] == ["C1"]

    (message,) = decider.encode(result)
    assert (message.topic, message.key) == (TOPIC, b"P-1")
    (event,) = published([message])
    assert isinstance(event, CourseScheduled)
    assert (event.source, event.subject, event.time) == (SOURCE, "P-1", NOW)
    assert (event.causationid, event.correlationid) == (prescription.id, "correlation-1")
    assert event.data.version == 1
    assert len(event.data.sessions) == 15


def test_a_course_prescribed_again_changes_nothing_unchanged_and_is_rejected_changed() -> None:
    decider, feed = planner(), ClinicFeed(patient="P-1")
    state = decided(decider, enrolled(decider, feed), command_of(decider, feed.prescribed(D, "C1")))
    again = command_of(decider, feed.prescribed(D, "C1"))  # a new event id, the same terms
    assert decider.decide(state.state, again, TODAY) == (state.state, ())
    changed = command_of(decider, feed.prescribed(D, "C1", sessions=17))
    assert decider.decide(state.state, changed, TODAY) == Rejected(OTHER_TERMS)


def test_outcomes_of_an_unknown_course_or_session_are_rejected() -> None:
    decider, feed = planner(), ClinicFeed(patient="P-1")
    state = decided(decider, enrolled(decider, feed), command_of(decider, feed.prescribed(D, "C1")))
    at = datetime.combine(D, time(9), UTC)
    unknown_course = SessionCompleted("e-1", at, "C9", "C9-s01", at)
    unknown_session = SessionCompleted("e-2", at, "C1", "C1-s99", at)
    assert decider.decide(state.state, unknown_course, TODAY) == Rejected(UNKNOWN_COURSE)
    assert decider.decide(state.state, unknown_session, TODAY) == Rejected(UNKNOWN_SESSION)


def test_r_course_length_a_prescription_the_core_refuses_is_rejected_naming_the_rule() -> None:
    decider, feed = planner(PlannerPolicy(min_sessions=16)), ClinicFeed(patient="P-1")
    prescription = command_of(decider, feed.prescribed(D, "C1", sessions=15))
    verdict = decider.decide(enrolled(decider, feed), prescription, TODAY)
    assert verdict == Rejected("R-COURSE-LENGTH: a course is 16 to 20 sessions")


def test_r_courses_per_year_a_completed_course_arms_a_reminder_and_its_tick_publishes_next_due(
) -> None:  # fmt: skip
    decider, feed = planner(), ClinicFeed(patient="P-1")
    state = decided(decider, enrolled(decider, feed), command_of(decider, feed.prescribed(D, "C1")))
    (scheduled,) = state.outputs
    assert isinstance(scheduled.output, Scheduled)
    for number, session in enumerate(scheduled.output.sessions):
        at = datetime.combine(session.on, time(9), UTC)
        done = SessionCompleted(f"done-{number}", at, "C1", session.session_id, at)
        state = decided(decider, state.state, done)
    completed, reminder = (timed.output for timed in state.outputs)
    assert isinstance(completed, Completed)
    assert isinstance(reminder, ArmReminder)
    assert [type(e).__name__ for e in published(decider.encode(state))] == ["CourseCompleted"]

    tick = Tick(f"reminder:P-1:C1:{reminder.fire_on}", NOW)
    reminded = decided(decider, state.state, tick, Context(reminder.fire_on, NOW))
    (next_due,) = (timed.output for timed in reminded.outputs)
    assert isinstance(next_due, NextDue)
    assert next_due.rules == ("R-COURSES-PER-YEAR",)
    (event,) = published(decider.encode(reminded))
    assert event.type == "courseflow.course.next_due"
    assert event.causationid == tick.event_id
    # once reminded, a later tick publishes nothing
    assert decided(decider, reminded.state, tick, Context(reminder.fire_on, NOW)).outputs == ()
