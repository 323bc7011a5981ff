"""Serialisation and construction of events for publishing."""

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas import codec, topics
from schemas.clinic import CoursePrescribed, CoursePrescribedData, FlareReported
from schemas.eligibility import Block, EligibilityDecided, EligibilityDecidedData
from schemas.events import topic_for
from schemas.examples import EXAMPLES
from schemas.rules import RuleId
from schemas.schedule import CourseScheduledData, PlannedSession

MSK = timezone(timedelta(hours=3))
AT = datetime(2026, 11, 20, 9, 12, tzinfo=MSK)


def decided(subject: str = "P-000123", time: datetime = AT) -> EligibilityDecided:
    data = EligibilityDecidedData(
        eligible=False,
        eligible_from=None,
        blocks=(Block(rule=RuleId.FLARE, since=date(2026, 11, 20), until=None),),
        restrictions=("no_direct_knee_work",),
        version=1,
    )
    return codec.new_event(
        EligibilityDecided,
        source="/courseflow/eligibility",
        subject=subject,
        data=data,
        time=time,
        causationid="cause-1",
    )


def test_the_transport_constants_are_those_of_the_contract():
    assert codec.CONTENT_TYPE == "application/cloudevents+json; charset=UTF-8"
    assert codec.MAX_EVENT_BYTES == 65536
    assert topics.ALL_TOPICS == (
        "clinic.patient-events",
        "clinic.staff-events",
        "courseflow.eligibility",
        "courseflow.schedule",
        "courseflow.notices",
        "courseflow.dead-letters",
    )


def test_new_event_fills_the_envelope_and_a_fresh_uuid4_id():
    first, second = decided(), decided()

    assert first.specversion == "1.0"
    assert first.type == "courseflow.eligibility.decided"
    assert first.datacontenttype == "application/json"
    assert first.causationid == "cause-1"
    assert first.correlationid is None
    assert len(first.id) == 36
    assert first.id[14] == "4"
    assert first.id != second.id
    assert topic_for(first) == topics.ELIGIBILITY


def test_new_event_takes_a_given_id_and_a_type_string():
    event = codec.new_event(
        "clinic.flare.reported",
        source="/clinics/north/emr",
        subject="P-1",
        data={"started_on": date(2026, 11, 20)},
        time=AT,
        id="fixed-1",
        correlationid="corr-9",
    )

    assert isinstance(event, FlareReported)
    assert event.id == "fixed-1"
    assert event.correlationid == "corr-9"
    assert event.data.rheumatic is False


def test_new_event_rejects_bad_arguments_as_a_bug_not_as_invalid_input():
    with pytest.raises(ValidationError):
        decided(subject="John Smith")
    with pytest.raises(ValidationError):
        decided(time=datetime(2026, 11, 20, 9, 12))  # noqa: DTZ001
    with pytest.raises(ValueError, match="unknown event type"):
        codec.new_event(
            "clinic.nope", source="/x", subject="P-1", data={}, time=AT, causationid="c"
        )


def test_python_callers_may_pass_lists_and_rule_id_strings():
    session = PlannedSession(
        session_id="s1",
        number=1,
        on=date(2026, 11, 23),
        starts_at=None,
        duration_min=7,
        notes=["R-IN-WATER"],  # type: ignore[arg-type]  # lax at run time only
    )
    data = CourseScheduledData(
        course_id="C-1",
        status="active",
        version=1,
        rules=["R-CADENCE", RuleId.DURATION_RAMP],  # type: ignore[arg-type]
        sessions=[session],  # type: ignore[arg-type]
        completed_sessions=0,
    )

    assert data.rules == (RuleId.CADENCE, RuleId.DURATION_RAMP)
    assert data.sessions == (session,)
    assert session.notes == (RuleId.IN_WATER,)


def test_models_are_frozen_and_hashable():
    event = decided()

    with pytest.raises(ValidationError):
        event.subject = "P-2"  # type: ignore[misc]
    assert hash(event.data.blocks[0]) == hash(event.data.blocks[0].model_copy())


def test_to_bytes_is_compact_and_leaves_out_absent_optional_attributes():
    raw = codec.to_bytes(decided())
    document = json.loads(raw)

    assert b" " not in raw
    assert "correlationid" not in document
    assert document["causationid"] == "cause-1"
    assert document["time"] == "2026-11-20T09:12:00+03:00"
    assert document["data"] == {
        "eligible": False,
        "eligible_from": None,
        "blocks": [{"rule": "R-FLARE", "since": "2026-11-20", "until": None}],
        "restrictions": ["no_direct_knee_work"],
        "version": 1,
        "history": [],
    }


def test_to_bytes_writes_utc_as_z_and_keeps_optional_data_nulls():
    event = codec.new_event(
        CoursePrescribed,
        source="/clinics/north/emr",
        subject="P-1",
        data=CoursePrescribedData(
            course_id="C-1", sessions=15, cadence="daily", start_on=date(2027, 1, 4)
        ),
        time=datetime(2026, 11, 20, 6, 12, 0, 500, tzinfo=UTC),
    )

    document = json.loads(codec.to_bytes(event))

    assert document["time"] == "2026-11-20T06:12:00.000500Z"
    assert document["data"]["start_on"] == "2027-01-04"
    assert document["data"]["preferred_time"] is None
    assert codec.parse_event(codec.to_bytes(event)) == event


@pytest.mark.parametrize("event_type", list(EXAMPLES))
def test_examples_survive_a_round_trip_byte_for_byte(event_type):
    raw = json.dumps(EXAMPLES[event_type], separators=(",", ":"), ensure_ascii=False).encode()

    event = codec.parse_event(raw)

    assert codec.to_bytes(event) == raw
    assert codec.parse_event(codec.to_bytes(event)) == event


def test_a_null_optional_attribute_counts_as_absent():
    document = dict(EXAMPLES["clinic.flare.reported"]) | {"correlationid": None}

    event = codec.parse_event(json.dumps(document).encode())

    assert event.correlationid is None
    assert "correlationid" not in json.loads(codec.to_bytes(event))


def test_lower_case_t_and_z_are_valid_rfc_3339():
    document = dict(EXAMPLES["clinic.flare.reported"]) | {"time": "2026-11-20t06:12:00z"}

    event = codec.parse_event(json.dumps(document).encode())

    assert event.time == datetime(2026, 11, 20, 6, 12, tzinfo=UTC)


def test_invalid_event_can_be_raised_with_a_reason_and_flattens_it_to_one_line():
    error = codec.InvalidEvent("first\nsecond", field="data.x")

    assert error.reason == "first second"
    assert error.field == "data.x"
    assert error.event_type is None
