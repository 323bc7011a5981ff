"""Schedule events name the therapist of each session, null while a clinic has no roster."""

import copy
import json
from datetime import UTC, date, datetime

import pytest

from schemas import codec
from schemas.codec import InvalidEvent
from schemas.examples import EXAMPLES
from schemas.schedule import CourseRescheduled, CourseScheduled

CANARY = "Canary-John-Smith-4711"


def _scheduled_without_therapists() -> bytes:
    document = copy.deepcopy(dict(EXAMPLES["courseflow.course.rescheduled"]))
    for entry in document["data"]["sessions"]:
        del entry["therapist_id"]
    for entry in document["data"]["changes"]:
        del entry["from_therapist_id"], entry["to_therapist_id"]
    return json.dumps(document).encode()


def test_schedule_events_always_carry_therapist_ids_null_without_a_roster():
    event = codec.parse_event(_scheduled_without_therapists())
    assert isinstance(event, CourseRescheduled)

    data = json.loads(codec.to_bytes(event))["data"]

    assert [s["therapist_id"] for s in data["sessions"]] == [None, None]
    assert [(c["from_therapist_id"], c["to_therapist_id"]) for c in data["changes"]] == [
        (None, None)
    ]


def test_a_planned_session_built_without_a_therapist_serialises_a_null_one():
    event = codec.new_event(
        CourseScheduled,
        source="/courseflow/planner",
        subject="P-1",
        time=datetime(2026, 11, 20, tzinfo=UTC),
        data={
            "course_id": "C-1",
            "status": "active",
            "version": 1,
            "rules": ["R-CADENCE"],
            "sessions": [
                {
                    "session_id": "C-1-s1",
                    "number": 1,
                    "on": date(2026, 11, 23),
                    "starts_at": None,
                    "duration_min": 7,
                }
            ],
            "completed_sessions": 0,
        },
    )

    assert b'"therapist_id":null' in codec.to_bytes(event)


def test_a_planned_session_refuses_a_therapist_id_that_could_be_a_name():
    document = copy.deepcopy(dict(EXAMPLES["courseflow.course.scheduled"]))
    document["data"]["sessions"][0]["therapist_id"] = "Dr " + CANARY

    with pytest.raises(InvalidEvent) as caught:
        codec.parse_event(json.dumps(document).encode())

    assert caught.value.field == "data.sessions[0].therapist_id"
    assert CANARY not in caught.value.reason
