"""Invalid input is rejected with InvalidEvent whose one-line reason never echoes the input."""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from schemas import codec
from schemas.codec import MAX_EVENT_BYTES, InvalidEvent
from schemas.examples import EXAMPLES

CANARY = "Canary-John-Smith-4711"
DELETE = object()


def event(event_type: str, *, data: dict[str, Any] | None = None, **attrs: Any) -> bytes:
    """An example event with envelope attributes and data fields replaced (DELETE drops)."""
    document = copy.deepcopy(dict(EXAMPLES[event_type]))
    for target, changes in ((document, attrs), (document["data"], data or {})):
        for key, value in changes.items():
            if value is DELETE:
                del target[key]
            else:
                target[key] = value
    return json.dumps(document).encode()


@dataclass(frozen=True)
class Invalid:
    raw: bytes
    secret: str | None
    field: str | None = None
    parse: Callable[[bytes], object] = codec.parse_event


ENROLLED = "clinic.patient.enrolled"
PRESCRIBED = "clinic.course.prescribed"
FLARE = "clinic.flare.reported"
FEVER = "clinic.contraindication.reported"
DECIDED = "courseflow.eligibility.decided"
SCHEDULED = "courseflow.course.scheduled"
NOTICE = "courseflow.notice.issued"

CASES: dict[str, Invalid] = {
    "oversize": Invalid(event("clinic.patient.withdrawn", data={"reason": CANARY * 4000}), CANARY),
    "bad JSON": Invalid(b'{"specversion":"1.0","id":"' + CANARY.encode() + b'",', CANARY),
    "not UTF-8": Invalid(b'{"id":"' + CANARY.encode() + b'\xff\xfe"}', CANARY),
    "UTF-16 JSON": Invalid(event(FLARE, id=CANARY).decode().encode("utf-16"), CANARY),
    "top level array": Invalid(b'["' + CANARY.encode() + b'"]', CANARY),
    "duplicate key": Invalid(
        event(FLARE).replace(b'"subject"', b'"subject":"' + CANARY.encode() + b'","subject"'),
        CANARY,
    ),
    "naive time": Invalid(event(FLARE, time="2026-11-20T09:12:47"), "2026-11-20T09:12:47", "time"),
    "unix time": Invalid(event(FLARE, time=1763619167), "1763619167", "time"),
    "time without seconds": Invalid(event(FLARE, time="2026-11-20T09:12+03:00"), "09:12+", "time"),
    "time not a time": Invalid(event(FLARE, time=CANARY), CANARY, "time"),
    "subject is a name": Invalid(event(FLARE, subject="John Smith"), "John Smith", "subject"),
    "subject too long": Invalid(event(FLARE, subject="P" * 65), "P" * 65, "subject"),
    "subject with newline": Invalid(event(FLARE, subject="P-1\n"), None, "subject"),
    "subject missing": Invalid(event(FLARE, subject=DELETE), None, "subject"),
    "empty id": Invalid(event(FLARE, id=""), None, "id"),
    "source not a URI": Invalid(event(FLARE, source=f"north clinic {CANARY}"), CANARY, "source"),
    "wrong specversion": Invalid(event(FLARE, specversion="0.3-canary"), "0.3-canary"),
    "wrong datacontenttype": Invalid(event(FLARE, datacontenttype=f"text/{CANARY}"), CANARY),
    "unknown type": Invalid(event(FLARE, type=f"clinic.{CANARY}.reported"), CANARY, "type"),
    "type missing": Invalid(event(FLARE, type=DELETE), None, "type"),
    "type not a string": Invalid(event(FLARE, type=471147), "471147", "type"),
    "output type on the clinic topic": Invalid(
        event(DECIDED), None, "type", codec.parse_clinic_event
    ),
    # `dataschema` and other lowercase names are CloudEvents extension attributes: ignored.
    "unknown envelope field": Invalid(event(FLARE, data_schema=CANARY), CANARY, "data_schema"),
    "extension attribute name too long": Invalid(
        event(FLARE, **dict[str, Any]({"a" * 21: CANARY})), CANARY, "a" * 21
    ),
    "extension attribute with an object value": Invalid(
        event(FLARE, comexample={"name": CANARY}), CANARY, "comexample"
    ),
    "integer too long to parse": Invalid(
        event(PRESCRIBED).replace(b'"sessions": 15', b'"sessions": ' + b"4711" * 1200), "4711"
    ),
    "malformed traceparent": Invalid(
        event(FLARE, traceparent=f"00-{CANARY}"), CANARY, "traceparent"
    ),
    "unknown data field": Invalid(event(FLARE, data={"patient_name": CANARY}), CANARY),
    "unknown data field with a name as key": Invalid(
        event(FLARE, data={CANARY: True}), CANARY, "data.<unnamed>"
    ),
    "sessions 14": Invalid(event(PRESCRIBED, data={"sessions": 14}), "14", "data.sessions"),
    "sessions 21": Invalid(event(PRESCRIBED, data={"sessions": 21}), "21", "data.sessions"),
    "sessions as string": Invalid(event(PRESCRIBED, data={"sessions": "17"}), "17"),
    "sessions as bool": Invalid(event(PRESCRIBED, data={"sessions": True}), "true"),
    "sessions as float": Invalid(event(PRESCRIBED, data={"sessions": 17.0}), "17"),
    "bad cadence": Invalid(event(PRESCRIBED, data={"cadence": f"weekly-{CANARY}"}), CANARY),
    "month 13": Invalid(event(PRESCRIBED, data={"start_on": "2026-13-01"}), "2026-13-01"),
    "dotted date": Invalid(event(PRESCRIBED, data={"start_on": "20.11.2026"}), "20.11.2026"),
    "date with time": Invalid(
        event(PRESCRIBED, data={"start_on": "2026-11-20T00:00:00Z"}), "2026-11-20T"
    ),
    "30 February": Invalid(event(PRESCRIBED, data={"start_on": "2026-02-30"}), "2026-02-30"),
    "date as number": Invalid(event(PRESCRIBED, data={"start_on": 20261120}), "20261120"),
    "preferred_time 25:00": Invalid(event(PRESCRIBED, data={"preferred_time": "25:00"}), "25:00"),
    "preferred_time 9:30": Invalid(event(PRESCRIBED, data={"preferred_time": "9:30"}), "9:30"),
    "start_on missing": Invalid(event(PRESCRIBED, data={"start_on": DELETE}), None),
    "empty affected_knees": Invalid(
        event(ENROLLED, data={"affected_knees": []}), None, "data.affected_knees"
    ),
    "duplicate knee": Invalid(event(ENROLLED, data={"affected_knees": ["left", "left"]}), "left"),
    "unknown knee": Invalid(event(ENROLLED, data={"affected_knees": [CANARY]}), CANARY),
    "stage 5": Invalid(event(ENROLLED, data={"arthrosis_stage": 5}), "5"),
    "stage 0": Invalid(event(ENROLLED, data={"arthrosis_stage": 0}), None),
    "bool as string": Invalid(event(ENROLLED, data={"severe_swelling": "yes-canary"}), "yes"),
    "bool as number": Invalid(event(ENROLLED, data={"severe_swelling": 1}), None),
    "temperature NaN": Invalid(
        event(FEVER).replace(b"38.2", b"NaN"), None, parse=codec.parse_clinic_event
    ),
    "temperature 99.9": Invalid(event(FEVER, data={"body_temperature_c": 99.9}), "99.9"),
    "unknown contraindication": Invalid(event(FEVER, data={"kind": CANARY}), CANARY),
    "unknown rule id": Invalid(
        event(DECIDED, data={"blocks": [{"rule": "R-CANARY", "since": "2026-11-20"}]}),
        "R-CANARY",
    ),
    "unknown restriction": Invalid(event(DECIDED, data={"restrictions": [CANARY]}), CANARY),
    "version 0": Invalid(event(DECIDED, data={"version": 0}), None, "data.version"),
    "eligible_from missing": Invalid(event(DECIDED, data={"eligible_from": DELETE}), None),
    "naive session start": Invalid(
        event(
            SCHEDULED,
            data={
                "sessions": [
                    {
                        "session_id": "s1",
                        "number": 1,
                        "on": "2026-11-23",
                        "starts_at": "2026-11-23T10:18:00",
                        "duration_min": 7,
                    }
                ]
            },
        ),
        "10:18",
        "data.sessions[0].starts_at",
    ),
    "unknown status": Invalid(event(SCHEDULED, data={"status": CANARY}), CANARY),
    "notice to a patient": Invalid(event(NOTICE, data={"audience": "patient-canary"}), "canary"),
    "multi-line summary": Invalid(event(NOTICE, data={"summary": f"ok\n{CANARY}"}), CANARY),
    "deeply nested": Invalid(b"[" * 32_000 + b"]" * 32_000, None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_invalid_input_is_rejected_with_a_one_line_reason_that_hides_the_input(case: Invalid):
    with pytest.raises(InvalidEvent) as caught:
        case.parse(case.raw)

    error = caught.value
    assert error.reason
    assert "\n" not in error.reason
    assert "\r" not in error.reason
    assert len(error.reason) <= 500
    assert str(error) == error.reason
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    if case.secret is not None:
        for text in (error.reason, str(error), repr(error), error.field or ""):
            assert case.secret.lower() not in text.lower()
    if case.field is not None:
        assert error.field == case.field


def test_there_are_at_least_25_invalid_cases():
    assert len(CASES) >= 25


def test_the_size_limit_applies_before_parsing():
    too_big = b" " * (MAX_EVENT_BYTES + 1)

    with pytest.raises(InvalidEvent, match="larger than 65536 bytes"):
        codec.parse_event(too_big)


def test_an_event_of_exactly_the_size_limit_is_accepted():
    raw = event("clinic.patient.withdrawn", data={"reason": "x"})
    padded = raw[:-1] + b" " * (MAX_EVENT_BYTES - len(raw)) + raw[-1:]

    assert len(padded) == MAX_EVENT_BYTES
    assert codec.parse_event(padded).type == "clinic.patient.withdrawn"


def test_reasons_name_the_field_and_the_rule_of_the_contract():
    cases = {
        event(PRESCRIBED, data={"sessions": 21}): (
            "data.sessions: Input should be less than or equal to 20"
        ),
        event(
            PRESCRIBED, data={"sessions": "15"}
        ): "data.sessions: Input should be a valid integer",
        event(FLARE, subject="John Smith"): "subject: must be a patient id",
        event(FLARE, type="clinic.nope"): "type: unknown event type",
        event(PRESCRIBED, data={"preferred_time": "25:00"}): "data.preferred_time: must be",
        event(ENROLLED, data={"affected_knees": ["left", "left"]}): (
            "data.affected_knees: must not contain duplicates"
        ),
        event(FLARE, data={"patient_name": "x"}): (
            "data.patient_name: Extra inputs are not permitted"
        ),
    }
    for raw, expected in cases.items():
        with pytest.raises(InvalidEvent) as caught:
            codec.parse_event(raw)
        assert caught.value.reason.startswith(expected), caught.value.reason


def test_a_recognised_event_type_is_reported_with_the_error():
    with pytest.raises(InvalidEvent) as caught:
        codec.parse_event(event(PRESCRIBED, data={"sessions": 14}))

    assert caught.value.event_type == PRESCRIBED
    assert caught.value.field == "data.sessions"


def test_many_errors_are_summarised_in_one_line():
    raw = event(
        PRESCRIBED,
        subject="John Smith",
        data={"sessions": 3, "cadence": "x", "start_on": "y", "preferred_time": "z"},
    )

    with pytest.raises(InvalidEvent) as caught:
        codec.parse_event(raw)

    assert caught.value.reason.count(";") == 3
    assert caught.value.reason.endswith("(+2 more)")
