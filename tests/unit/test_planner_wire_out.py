"""The planner's schedule events are built from valid parts without validation, so the full
validation is here: every event against the generated JSON Schema of its type (as a
consumer in another language would check it) and the strict contract model (as our own
consumers parse it), byte for byte.
"""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from schemas.causes import Cause
from schemas.codec import parse_event, to_bytes
from schemas.envelope import Envelope
from schemas.generate import GENERATED_DIR
from services.planner.commands import NotPerformedReason, SessionNotPerformed
from services.planner.decide import decide
from services.planner.notes import Profile, session_notes, session_sequence
from services.planner.outputs import (
    ArmReminder,
    Cancelled,
    Completed,
    CourseRejected,
    CourseStatus,
    NextDue,
    Output,
    PlannedSession,
    Rescheduled,
    Resumed,
    ReviewFlag,
    Scheduled,
    SessionChange,
    Suspended,
)
from services.planner.state import PatientState, PublishedCourse
from services.planner.wire_out import Envelopes, to_wire
from tests.unit.test_planner_incremental import History
from tests.unit.test_planner_support import BERLIN, Harness, at

SCHEMAS = {
    path.name.removesuffix(".json"): Draft202012Validator(
        json.loads(path.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for path in (GENERATED_DIR / "json").glob("courseflow.course.*.json")
}
ENVELOPES = Envelopes(
    "/clinics/north/planner",
    "P-000123",
    Cause("7d1c0c1e-2f7a-4a53-9f1e-0b9c6f0f2a11", "corr-1", f"00-{'a' * 32}-{'b' * 16}-01"),
    datetime(2026, 11, 20, 9, 12, tzinfo=UTC),
)
ALL_NOTES = Profile(knee_painful_on_palpation=True, impaired_limb_blood_supply=True)


def assert_valid(event: Envelope) -> None:
    raw = to_bytes(event)
    SCHEMAS[event.type].validate(json.loads(raw))
    parsed = parse_event(raw)
    assert parsed == event
    assert to_bytes(parsed) == raw


def session(number: int, on: date, starts: time | None = time(9)) -> PlannedSession:
    return PlannedSession(
        f"C1-s{number:02d}",
        number,
        on,
        None if starts is None else BERLIN.at(on, starts),
        min(6 + number, 15),
        session_notes(ALL_NOTES),
        session_sequence(ALL_NOTES),
    )


MONDAY = date(2026, 11, 2)
PLAN = (session(3, MONDAY), session(4, MONDAY + timedelta(days=2), None))
HEAD = ("C1", CourseStatus.ACTIVE, 2, ("R-CADENCE", "R-DURATION-RAMP"), PLAN, 2)
MOVED = SessionChange("C1-s03", MONDAY - timedelta(days=1), MONDAY, None, PLAN[0].starts_at)
ADDED = SessionChange("C1-s04", None, PLAN[1].on, None, None)
DONE = ("C1", CourseStatus.COMPLETED, 3, ("R-COURSES-PER-YEAR",), (), 15)
EVERY_KIND: list[Output] = [
    Scheduled(*HEAD),
    Suspended("C1", CourseStatus.SUSPENDED, 3, ("R-FLARE",), (), 2, ("C1-s03", "C1-s04")),
    Resumed(*HEAD),
    Rescheduled(*HEAD, (MOVED, ADDED)),
    Completed(*DONE, MONDAY + timedelta(days=31), MONDAY + timedelta(days=180)),
    Cancelled("C1", CourseStatus.CANCELLED, 4, ("R-POSTOP",), (), 2, "surgery", MONDAY),
    Cancelled("C1", CourseStatus.CANCELLED, 4, (), (), 0, "patient withdrawn"),
    NextDue(*DONE, MONDAY + timedelta(days=31), MONDAY + timedelta(days=180)),
    ReviewFlag("C1", ("C1-s03", "C1-s04"), ("R-SESSION-PAIN",), "2 sessions in a row"),
]
PUBLISHED = PatientState(published=(PublishedCourse("C1", 2, CourseStatus.ACTIVE, PLAN, 2),))


@pytest.mark.parametrize("output", EVERY_KIND, ids=lambda o: type(o).__name__)
def test_every_kind_of_schedule_event_is_valid_against_its_json_schema(output: Output) -> None:
    event = to_wire(output, PUBLISHED, ENVELOPES)

    assert event is not None
    assert event.subject == "P-000123"
    assert (event.causationid, event.correlationid) == (
        "7d1c0c1e-2f7a-4a53-9f1e-0b9c6f0f2a11",
        "corr-1",
    )
    assert_valid(event)


def test_a_cancellation_names_its_reason_and_the_break_only_when_a_session_was_done() -> None:
    surgery, withdrawal = (to_wire(o, PUBLISHED, ENVELOPES) for o in EVERY_KIND[5:7])

    assert surgery is not None
    assert withdrawal is not None
    assert json.loads(to_bytes(surgery))["data"]["reason"] == "surgery"
    assert json.loads(to_bytes(surgery))["data"]["next_course_earliest_on"] == "2026-11-02"
    assert json.loads(to_bytes(withdrawal))["data"]["reason"] == "withdrawal"
    assert "next_course_earliest_on" not in json.loads(to_bytes(withdrawal))["data"]


def test_reminders_refusals_and_flags_of_unpublished_courses_are_not_published() -> None:
    flag = ReviewFlag("C9", ("C9-s01", "C9-s02"), ("R-SESSION-PAIN",), "2 sessions in a row")

    assert to_wire(ArmReminder("C1", MONDAY), PUBLISHED, ENVELOPES) is None
    assert (
        to_wire(CourseRejected("C1", "a course is 15 to 20 sessions", ()), PUBLISHED, ENVELOPES)
        is None
    )
    assert to_wire(flag, PUBLISHED, ENVELOPES) is None


def test_r_session_pain_one_session_not_performed_twice_in_a_row_is_named_once() -> None:
    """The flag's session ids are unique on the wire, even when the streak is one session
    reported twice (it moved to the end and came up again)."""
    patient = Harness()
    patient.prescribe()
    first = patient.plan()[0]
    for hour in (10, 11):
        pain = NotPerformedReason.SEVERE_PAIN
        event_id = patient.next_id("np")
        patient.feed(
            SessionNotPerformed(event_id, at(first.on, hour), "C1", first.session_id, pain)
        )
    (flag,) = [o for o in patient.outputs if isinstance(o, ReviewFlag)]
    event = to_wire(flag, patient.state, ENVELOPES)

    assert flag.session_ids == (first.session_id,)
    assert event is not None
    assert_valid(event)


def test_a_source_setting_that_is_no_uri_reference_is_refused() -> None:
    envelopes = Envelopes("not a uri", "P-000123", Cause("c", "c"), ENVELOPES.now)

    with pytest.raises(ValidationError):
        to_wire(EVERY_KIND[0], PUBLISHED, envelopes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(5, 40))
def test_every_event_along_any_history_is_valid_against_its_json_schema(
    data: st.DataObject, steps: int
) -> None:
    history = History(data)
    state = PatientState()
    for _ in range(steps):
        command = history.command(state)
        history.sent.append(command)
        state, outputs = decide(state, command, history.day, BERLIN)
        envelopes = Envelopes("/clinics/north/planner", "P-1", Cause("e", "e"), at(history.day))
        for output in outputs:
            event = to_wire(output, state, envelopes)
            if event is not None:
                assert_valid(event)
