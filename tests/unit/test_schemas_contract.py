"""Every example of CONTRACT.md and one example of every event type parse."""

import json
import re
from pathlib import Path

import pytest

from schemas import codec, topics
from schemas.clinic import FlareReported
from schemas.events import CLASSES_BY_TOPIC, EVENT_CLASSES, TOPIC_BY_TYPE, topic_for
from schemas.examples import EXAMPLES
from schemas.rules import RuleId

SHARED = Path(__file__).resolve().parents[3] / "shared"

# Literal copy so the test also runs where ../shared is absent.
CONTRACT_FLARE_EXAMPLE = (
    b'{"specversion":"1.0","id":"7d1c0c1e-2f7a-4a53-9f1e-0b9c6f0f2a11",'
    b'"source":"/clinics/north/emr",\n'
    b' "type":"clinic.flare.reported","time":"2026-11-20T09:12:00+03:00","subject":"P-000123",\n'
    b' "datacontenttype":"application/json","data":{"started_on":"2026-11-20","rheumatic":false}}'
)

DOMAIN_RULE_IDS = [
    "R-COURSE-LENGTH",
    "R-CADENCE",
    "R-DURATION-RAMP",
    "R-COURSE-BREAK",
    "R-COURSES-PER-YEAR",
    "R-PT-BEFORE",
    "R-FLARE",
    "R-REMISSION",
    "R-RHEUM-WAIT",
    "R-CONTRA-BLEEDING",
    "R-CONTRA-INFLAMMATION",
    "R-CONTRA-THROMBOSIS",
    "R-CONTRA-FEVER",
    "R-SESSION-PAIN",
    "R-POSTOP",
    "R-ADVANCED-STAGE",
    "R-NO-KNEE-WHEN-PAINFUL",
    "R-HEMODYNAMICS",
    "R-IN-WATER",
    "R-SEQUENCE",
    "R-ROSTER",
    "R-NO-OVERLAP",
    "R-CONTINUITY",
    "R-PREFERRED-TIME",
    "R-CAPACITY",
    "R-THERAPIST-ABSENT",
    "R-PLAN-STABLE",
]

CONTRACT_TYPES = [
    "clinic.patient.enrolled",
    "clinic.course.prescribed",
    "clinic.flare.reported",
    "clinic.remission.confirmed",
    "clinic.contraindication.reported",
    "clinic.contraindication.resolved",
    "clinic.surgery.performed",
    "clinic.rehab.massage_cleared",
    "clinic.physical_therapy.booked",
    "clinic.session.completed",
    "clinic.session.not_performed",
    "clinic.patient.withdrawn",
    "clinic.therapist.rostered",
    "clinic.therapist.absent",
    "clinic.therapist.left",
    "courseflow.eligibility.decided",
    "courseflow.course.scheduled",
    "courseflow.course.suspended",
    "courseflow.course.resumed",
    "courseflow.course.rescheduled",
    "courseflow.course.completed",
    "courseflow.course.cancelled",
    "courseflow.course.next_due",
    "courseflow.course.review_requested",
    "courseflow.notice.issued",
]
ADDED_TYPES = {"courseflow.course.review_requested"}  # additions the contract allows


def _shared_text(name: str) -> str:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not available here")
    return path.read_text(encoding="utf-8")


def test_the_literal_contract_example_parses_as_a_flare_report():
    event = codec.parse_event(CONTRACT_FLARE_EXAMPLE)

    assert isinstance(event, FlareReported)
    assert event.subject == "P-000123"
    assert event.data.started_on.isoformat() == "2026-11-20"
    assert event.data.rheumatic is False
    assert event.time.utcoffset() is not None
    assert codec.parse_clinic_event(CONTRACT_FLARE_EXAMPLE) == event


def test_the_contract_example_with_extension_attributes_and_trace_context_parses():
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    extended = CONTRACT_FLARE_EXAMPLE[:-1] + (
        b',"comexampleextension1":"value","comexampleothervalue":5,'
        b'"traceparent":"' + traceparent.encode() + b'","tracestate":"rojo=00f067aa0ba902b7"}'
    )

    event = codec.parse_event(extended)

    assert isinstance(event, FlareReported)
    assert event.traceparent == traceparent
    assert event.tracestate == "rojo=00f067aa0ba902b7"
    assert b"comexample" not in codec.to_bytes(event)


def test_every_json_example_in_contract_md_parses():
    blocks = re.findall(r"```json\n(.*?)```", _shared_text("CONTRACT.md"), flags=re.DOTALL)

    assert blocks, "CONTRACT.md has no JSON examples any more"
    for block in blocks:
        event = codec.parse_event(block.encode())
        assert event.type in EVENT_CLASSES


def test_every_type_named_in_contract_md_has_a_model():
    text = _shared_text("CONTRACT.md")
    named = set(re.findall(r"`((?:clinic|courseflow)\.[a-z_]+\.[a-z_]+)`", text))

    assert named == set(CONTRACT_TYPES) - ADDED_TYPES


def test_the_models_cover_exactly_the_contract_types():
    assert list(EVENT_CLASSES) == CONTRACT_TYPES
    assert set(EXAMPLES) == set(CONTRACT_TYPES)


@pytest.mark.parametrize("event_type", CONTRACT_TYPES)
def test_a_valid_example_of_each_type_parses_to_its_model(event_type):
    event = codec.parse_event(json.dumps(EXAMPLES[event_type]).encode())

    assert type(event) is EVENT_CLASSES[event_type]
    assert topic_for(event) == TOPIC_BY_TYPE[event_type]


@pytest.mark.parametrize(
    "event_cls", CLASSES_BY_TOPIC[topics.PATIENT_EVENTS], ids=lambda c: c.event_type()
)
def test_the_clinic_topic_parser_accepts_each_clinic_type(event_cls):
    raw = json.dumps(EXAMPLES[event_cls.event_type()]).encode()

    assert type(codec.parse_clinic_event(raw)) is event_cls


def test_enrolment_defaults_are_false_as_the_contract_says():
    example = json.loads(json.dumps(EXAMPLES["clinic.patient.enrolled"]))
    example["data"] = {"clinic_id": "north", "arthrosis_stage": 1, "affected_knees": ["left"]}

    data = codec.parse_clinic_event(json.dumps(example).encode()).data

    assert data.model_dump() == {
        "clinic_id": "north",
        "arthrosis_stage": 1,
        "affected_knees": ("left",),
        "rheumatic_inflammation": False,
        "impaired_limb_blood_supply": False,
        "knee_painful_on_palpation": False,
        "severe_swelling": False,
    }


def test_optional_fields_of_the_contract_may_be_left_out():
    for event_type, field in [
        ("clinic.course.prescribed", "preferred_time"),
        ("clinic.contraindication.reported", "body_temperature_c"),
        ("clinic.patient.withdrawn", "reason"),
        ("clinic.flare.reported", "rheumatic"),
    ]:
        example = json.loads(json.dumps(EXAMPLES[event_type]))
        del example["data"][field]
        example.pop("correlationid", None)

        event = codec.parse_event(json.dumps(example).encode())

        assert event.correlationid is None


def test_rule_ids_are_exactly_those_of_domain_md():
    assert [rule.value for rule in RuleId] == DOMAIN_RULE_IDS


def test_rule_ids_match_the_tables_of_domain_md():
    found = re.findall(r"^\| (R-[A-Z-]+) \|", _shared_text("DOMAIN.md"), flags=re.MULTILINE)

    assert found == DOMAIN_RULE_IDS
