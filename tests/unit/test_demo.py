"""The demo's traffic is valid on the wire, and its feed names who a moved session went to."""

import json
from datetime import date

from schemas.clinic import PatientEnrolled
from schemas.codec import to_bytes
from schemas.staff import TherapistAbsent, TherapistRostered
from services.demo.runner import _Absence, _moves
from services.demo.stories import absence_event, roster_events, story_events
from services.runtime.decider import Rejected
from services.runtime.wire import decode_any_event

TODAY = date(2026, 12, 1)


def test_the_roster_and_the_absence_are_staff_events_of_the_demo_clinic() -> None:
    roster = [decode_any_event(to_bytes(event)) for _, event in roster_events("demo-x", TODAY)]
    assert all(isinstance(event, TherapistRostered) for event in roster)
    assert {e.data.clinic_id for e in roster if isinstance(e, TherapistRostered)} == {"demo-x"}
    _, absence = absence_event("demo-x", "T-demo-x-1", TODAY)
    decoded = decode_any_event(to_bytes(absence))
    assert isinstance(decoded, TherapistAbsent)
    assert (decoded.data.from_on, decoded.subject) == (TODAY, "T-demo-x-1")


def test_the_patients_are_enrolled_in_the_demo_clinic() -> None:
    events = [decode_any_event(to_bytes(event)) for _, event in story_events(TODAY, "demo-x")]
    assert not any(isinstance(event, Rejected) for event in events)
    enrolled = [e for e in events if isinstance(e, PatientEnrolled)]
    assert enrolled
    assert {e.data.clinic_id for e in enrolled} == {"demo-x"}


def plan(course: str, *sessions: tuple[str, str | None]) -> dict[str, object]:
    data = {"course_id": course, "sessions": [{"on": on, "therapist_id": t} for on, t in sessions]}
    return {"type": "courseflow.course.scheduled", "data": data}


def test_the_absent_therapist_gives_the_most_sessions_of_the_first_days() -> None:
    absence = _Absence("demo-x")
    assert absence.choose() is None
    absence.notice(plan("C-1", ("2026-12-02", None)))
    assert absence.choose() is None
    absence.notice(plan("C-1", ("2026-12-02", "T-2"), ("2026-12-04", "T-2")))
    absence.notice(plan("C-2", ("2026-12-03", "T-1"), ("2026-12-04", "T-1")))
    absence.notice(plan("C-3", ("2026-12-03", "T-3"), ("2026-12-04", "T-3")))
    assert absence.choose() == ("T-1", date(2026, 12, 2))  # two each: the smallest id
    absence.notice(plan("C-2", ("2026-12-05", "T-1")))  # the course moved on: its plan counts
    assert absence.choose() == ("T-2", date(2026, 12, 2))


def test_a_moved_session_shows_from_whom_to_whom() -> None:
    change = {
        "session_id": "C-1-s01", "from_on": "2026-12-03", "to_on": "2026-12-03",
        "from_starts_at": "2026-12-03T09:00:00+00:00", "to_starts_at": "2026-12-03T09:00:00+00:00",
        "from_therapist_id": "T-demo-x-2", "to_therapist_id": "T-demo-x-1",
    }  # fmt: skip
    event = {"type": "courseflow.course.rescheduled", "data": {"changes": [change]}}
    [line] = _moves(json.loads(json.dumps(event)))
    assert "C-1-s01" in line
    assert line.index("T-demo-x-2") < line.index("→") < line.index("T-demo-x-1")
    assert _moves({"type": "courseflow.course.scheduled", "data": {}}) == []
