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


def test_the_absent_therapist_is_the_first_one_a_course_gets() -> None:
    absence = _Absence("demo-x")
    absence.notice({"data": {"sessions": [{"on": "2026-12-02", "therapist_id": None}]}})
    assert absence.from_on is None
    absence.notice({"data": {"sessions": [{"on": "2026-12-03", "therapist_id": "T-demo-x-2"}]}})
    absence.notice({"data": {"sessions": [{"on": "2026-12-04", "therapist_id": "T-demo-x-3"}]}})
    assert absence.therapist_id == "T-demo-x-2"
    assert absence.from_on == date(2026, 12, 3)


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
