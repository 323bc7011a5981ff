"""Generate the JSON Schema per event type and the AsyncAPI 3.0 document (`make schemas`)."""

import json
from pathlib import Path
from typing import Any

import yaml

from schemas import dead_letters, topics
from schemas.codec import CONTENT_TYPE, MAX_EVENT_BYTES
from schemas.events import EVENT_CLASSES, TOPIC_BY_TYPE, TYPES_BY_TOPIC
from schemas.examples import EXAMPLES
from schemas.types import IDENTIFIER_PATTERN, PATIENT_ID_PATTERN

GENERATED_DIR = Path(__file__).parent / "generated"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_CHANNELS = {
    topics.PATIENT_EVENTS: ("patientEvents", "receive", "Clinic systems report patient facts."),
    topics.STAFF_EVENTS: (
        "staffEvents",
        "receive",
        "Clinic systems report their therapists' roster (the planner does not read it yet).",
    ),
    topics.ELIGIBILITY: ("eligibility", "send", "Eligibility decisions, when they change."),
    topics.SCHEDULE: ("schedule", "send", "The planner's courses and their sessions."),
    topics.NOTICES: ("notices", "send", "Notices issued to staff."),
    topics.DEAD_LETTERS: ("deadLetters", "send", "Messages a service could not accept."),
}


def generate(out_dir: Path | None = None) -> dict[Path, str]:
    """Every generated file (path -> content) without touching the disk."""
    root = GENERATED_DIR if out_dir is None else out_dir
    files = {
        root / "json" / f"{event_type}.json": _dump_json(json_schema(event_type))
        for event_type in sorted(EVENT_CLASSES)
    }
    files[root / "asyncapi.yaml"] = yaml.safe_dump(
        asyncapi(), sort_keys=True, allow_unicode=True, width=100
    )
    return files


def write(out_dir: Path | None = None) -> list[Path]:
    """Write the generated files and delete stale schemas; returns the files written."""
    files = generate(out_dir)
    root = GENERATED_DIR if out_dir is None else out_dir
    (root / "json").mkdir(parents=True, exist_ok=True)
    for stale in (root / "json").glob("*.json"):
        if stale not in files:
            stale.unlink()
    for path, content in files.items():
        path.write_text(content, encoding="utf-8")
    return sorted(files)


def json_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type (envelope and data), with its example."""
    schema = EVENT_CLASSES[event_type].model_json_schema(mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "examples": [dict(EXAMPLES[event_type])]}


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: six topics, one message per event type, dead letters."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic, (channel_id, action, description) in _CHANNELS.items():
        names = _message_names(topic)
        channels[channel_id] = {
            "address": topic,
            "description": description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
        }
        operations[f"{action}{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in names],
        }
    for event_type, cls in EVENT_CLASSES.items():
        messages[_message_name(event_type)] = {
            "name": event_type,
            "title": cls.__name__,
            "contentType": CONTENT_TYPE,
            "payload": {"$ref": f"./json/{event_type}.json"},
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "correlationId": {"$ref": "#/components/correlationIds/correlationid"},
            "bindings": {"kafka": _kafka_key_binding(TOPIC_BY_TYPE[event_type])},
            "examples": [{"name": "example", "payload": dict(EXAMPLES[event_type])}],
        }
    messages["deadLetter"] = _dead_letter_message()
    messages["timerDeadLetter"] = _timer_dead_letter_message()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "courseflow",
            "version": "1.0.0",
            "description": (
                "Wire contract v1: CloudEvents 1.0 in structured JSON mode on Apache Kafka,"
                f" at most {MAX_EVENT_BYTES} bytes per message value. The message key is the"
                " patient id (the CloudEvents `subject`), so a patient's events stay in order;"
                " on the staff topic it is the `data.clinic_id`, and `subject` the therapist id."
                " Unknown `data` fields are rejected; other CloudEvents extension attributes"
                " (lowercase a-z0-9, at most 20 characters) are accepted and ignored, and"
                " `traceparent` / `tracestate` (W3C Trace Context) are carried onto every event"
                " they cause. The project may add optional fields and types."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                "CloudEventHeaders": {
                    "type": "object",
                    "properties": {"content-type": {"type": "string", "const": CONTENT_TYPE}},
                }
            },
            "correlationIds": {
                "correlationid": {
                    "description": "Copied onto every event caused by this one.",
                    "location": "$message.payload#/correlationid",
                }
            },
        },
    }


def _message_names(topic: str) -> list[str]:
    if topic == topics.DEAD_LETTERS:
        return ["deadLetter", "timerDeadLetter"]
    return [_message_name(event_type) for event_type in TYPES_BY_TOPIC[topic]]


def _message_name(event_type: str) -> str:
    return event_type.replace(".", "_")


def _kafka_key_binding(topic: str) -> dict[str, Any]:
    if topic == topics.STAFF_EVENTS:
        pattern, description = IDENTIFIER_PATTERN, "The clinic id (UTF-8): `data.clinic_id`."
    else:
        pattern, description = PATIENT_ID_PATTERN, "The patient id (UTF-8): `subject`."
    return {
        "bindingVersion": "0.5.0",
        "key": {"type": "string", "pattern": pattern, "description": description},
    }


def _dead_letter_message() -> dict[str, Any]:
    header_properties = {
        name: {"type": "string", "description": description}
        for name, description in dead_letters.DEAD_LETTER_HEADERS.items()
    }
    return {
        "name": "dead-letter",
        "title": "Dead letter",
        "summary": "A message a service rejected, kept unchanged for operators.",
        "description": (
            "The value is the original message bytes, unchanged (possibly not an event at"
            " all), and the key is the original key."
        ),
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": header_properties,
            "required": sorted(header_properties),
        },
        "payload": {"description": "The original message value, byte for byte."},
        "bindings": {
            "kafka": {
                "bindingVersion": "0.5.0",
                "key": {"type": "string", "description": "The original message key."},
            }
        },
    }


def _timer_dead_letter_message() -> dict[str, Any]:
    header_properties = {
        name: {"type": "string", "description": description}
        for name, description in dead_letters.TIMER_DEAD_LETTER_HEADERS.items()
    }
    return {
        "name": "timer-dead-letter",
        "title": "Timer dead letter",
        "summary": "A durable timer that failed on every attempt, set aside for operators.",
        "description": (
            "The value names the timer and nothing of what it would have decided; the key is"
            " the patient id. The timer stays in its service's table, set aside."
        ),
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": header_properties,
            "required": sorted(header_properties),
        },
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "required": ["timer", "key", "due_on", "attempts"],
            "properties": {
                "timer": {"type": "string", "description": "the kind of timer"},
                "key": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "the timer's key, the patient id first",
                },
                "due_on": {"type": "string", "format": "date"},
                "attempts": {"type": "integer", "minimum": 1},
            },
        },
        "bindings": {
            "kafka": {
                "bindingVersion": "0.5.0",
                "key": {"type": "string", "pattern": PATIENT_ID_PATTERN},
            }
        },
    }


def _dump_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for written in write():
        print(written)  # noqa: T201
