"""The roster events of `clinic.staff-events`."""

import copy
import json
from datetime import date
from typing import Any

import pytest

from schemas import codec, topics
from schemas.codec import InvalidEvent
from schemas.events import CLASSES_BY_TOPIC, TOPIC_BY_TYPE
from schemas.examples import EXAMPLES
from schemas.staff import TherapistAbsent, TherapistRostered

ROSTERED = "clinic.therapist.rostered"
ABSENT = "clinic.therapist.absent"
LEFT = "clinic.therapist.left"
CANARY = "Canary-John-Smith-4711"


def staff_event(event_type: str, **data: Any) -> bytes:
    document = copy.deepcopy(dict(EXAMPLES[event_type]))
    document["data"].update(data)
    return json.dumps(document).encode()


def rejection(raw: bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        codec.parse_staff_event(raw)
    return caught.value


@pytest.mark.parametrize(
    "event_cls", CLASSES_BY_TOPIC[topics.STAFF_EVENTS], ids=lambda c: c.event_type()
)
def test_the_staff_topic_parser_accepts_each_roster_type(event_cls):
    raw = json.dumps(EXAMPLES[event_cls.event_type()]).encode()

    event = codec.parse_staff_event(raw)

    assert type(event) is event_cls
    assert TOPIC_BY_TYPE[event.type] == topics.STAFF_EVENTS
    assert json.loads(codec.to_bytes(event)) == EXAMPLES[event.type]


def test_each_topic_parser_refuses_the_other_topics_types():
    assert rejection(json.dumps(EXAMPLES["clinic.flare.reported"]).encode()).field == "type"
    with pytest.raises(InvalidEvent, match="unknown event type"):
        codec.parse_clinic_event(json.dumps(EXAMPLES[LEFT]).encode())


def test_weekly_hours_are_read_with_from_as_the_wire_name():
    event = codec.parse_staff_event(staff_event(ROSTERED))

    assert isinstance(event, TherapistRostered)
    first = event.data.weekly_hours[0]
    assert (first.weekday, first.from_, first.to) == (0, "08:00", "12:00")
    assert event.data.effective_from == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"weekly_hours": []}, "data.weekly_hours: Tuple should have at least 1 item"),
        (
            {"weekly_hours": [{"weekday": 1, "from": "12:00", "to": "12:00"}]},
            "data.weekly_hours[0]: `to` must be later than `from`",
        ),
        (
            {"weekly_hours": [{"weekday": 1, "from": "17:00", "to": "09:00"}]},
            "data.weekly_hours[0]: `to` must be later than `from`",
        ),
        (
            {"weekly_hours": [{"weekday": 7, "from": "08:00", "to": "09:00"}]},
            "data.weekly_hours[0].weekday: Input should be less than or equal to 6",
        ),
        (
            {"weekly_hours": [{"weekday": 0, "from_": "08:00", "to": "09:00"}]},
            "data.weekly_hours[0].from: Field required",
        ),
        (
            {"weekly_hours": [{"weekday": 0, "from": "8:00", "to": "09:00"}]},
            "data.weekly_hours[0].from: must be a local time HH:MM",
        ),
        ({"therapist_id": "Dr Jane Doe"}, "data.therapist_id: must be a therapist id"),
        ({"effective_from": "2026-11-31"}, "data.effective_from: must be a valid calendar date"),
    ],
)
def test_a_bad_roster_is_rejected_with_the_rule_it_breaks(data, expected):
    reason = rejection(staff_event(ROSTERED, **data)).reason

    assert reason.startswith(expected), reason


def test_an_absence_includes_both_days_and_may_be_a_single_day():
    event = codec.parse_staff_event(staff_event(ABSENT, from_on="2026-11-25", to_on="2026-11-25"))

    assert isinstance(event, TherapistAbsent)
    assert event.data.from_on == event.data.to_on


def test_an_absence_needs_no_reason_but_only_a_known_one():
    document = copy.deepcopy(dict(EXAMPLES[ABSENT]))
    del document["data"]["reason"]

    event = codec.parse_staff_event(json.dumps(document).encode())

    assert isinstance(event, TherapistAbsent)
    assert event.data.reason is None
    assert rejection(staff_event(ABSENT, reason="flu")).field == "data.reason"


def test_an_absence_ending_before_it_starts_is_rejected():
    invalid = rejection(staff_event(ABSENT, from_on="2026-11-27", to_on="2026-11-25"))

    assert invalid.reason == "data: `to_on` must not be before `from_on`"
    assert invalid.event_type == ABSENT


def test_the_subject_of_a_staff_event_must_be_a_therapist_id():
    document = copy.deepcopy(dict(EXAMPLES[LEFT]))
    document["subject"] = CANARY + " Smith"

    invalid = rejection(json.dumps(document).encode())

    assert invalid.reason.startswith("subject: must be a therapist id")


@pytest.mark.parametrize("event_type", [ROSTERED, ABSENT, LEFT])
def test_the_subject_must_be_the_therapist_the_event_is_about(event_type):
    invalid = rejection(staff_event(event_type, therapist_id="T-08"))

    assert invalid.reason == "event: `subject` must be the `data.therapist_id`"
    assert invalid.event_type == event_type


@pytest.mark.parametrize(
    "data",
    [
        {"weekly_hours": [{"weekday": 0, "from": CANARY, "to": "09:00"}]},
        {"weekly_hours": [{"weekday": CANARY, "from": "08:00", "to": "09:00"}]},
        {"weekly_hours": [{"weekday": 0, "from": "08:00", "to": "09:00", CANARY: 1}]},
        {"therapist_id": CANARY + " Smith"},
        {"effective_from": CANARY},
    ],
)
def test_rejected_roster_values_are_never_echoed(data):
    invalid = rejection(staff_event(ROSTERED, **data))

    assert CANARY not in invalid.reason
    assert CANARY not in (invalid.field or "")
