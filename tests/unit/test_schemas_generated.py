"""The checked-in JSON Schemas and AsyncAPI document match the models."""

import json
import re

import yaml

from schemas import dead_letters, topics
from schemas.codec import CONTENT_TYPE
from schemas.events import EVENT_CLASSES, TOPIC_BY_TYPE
from schemas.generate import GENERATED_DIR, generate

STALE = "schemas/generated is stale: run `make schemas` (python -m schemas.generate) and commit"


def test_checked_in_files_match_the_models():
    expected = generate()
    on_disk = {path for path in GENERATED_DIR.rglob("*") if path.is_file()}

    assert on_disk == set(expected), STALE
    for path, content in expected.items():
        assert path.read_text(encoding="utf-8") == content, f"{path.name}: {STALE}"


def test_generation_is_deterministic():
    assert generate() == generate()


def test_there_is_one_json_schema_per_event_type_and_it_forbids_unknown_fields():
    for event_type, cls in EVENT_CLASSES.items():
        schema = json.loads((GENERATED_DIR / "json" / f"{event_type}.json").read_text())
        assert schema["title"] == cls.__name__
        assert schema["additionalProperties"] is False
        assert schema["properties"]["type"]["const"] == event_type
        data_ref = schema["properties"]["data"]["$ref"].rsplit("/", 1)[-1]
        assert schema["$defs"][data_ref]["additionalProperties"] is False


def test_the_envelope_admits_extension_attributes_and_trace_context():
    for event_type in EVENT_CLASSES:
        schema = json.loads((GENERATED_DIR / "json" / f"{event_type}.json").read_text())
        (pattern,) = schema["patternProperties"]
        assert re.fullmatch(pattern, "comexampleextension1")
        assert not re.fullmatch(pattern, "data")
        assert not re.fullmatch(pattern, "Upper_case")
        assert schema["properties"]["traceparent"]["anyOf"][0]["pattern"].startswith("^00-")
        assert "tracestate" in schema["properties"]


def test_asyncapi_describes_the_six_topics_and_every_message():
    document = yaml.safe_load((GENERATED_DIR / "asyncapi.yaml").read_text())
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    messages = document["components"]["messages"]

    assert document["asyncapi"] == "3.0.0"
    assert document["defaultContentType"] == CONTENT_TYPE
    assert set(channels) == set(topics.ALL_TOPICS)
    for event_type, topic in TOPIC_BY_TYPE.items():
        name = event_type.replace(".", "_")
        assert name in channels[topic]["messages"]
        assert messages[name]["payload"] == {"$ref": f"./json/{event_type}.json"}
        assert messages[name]["bindings"]["kafka"]["key"]["pattern"]


def test_asyncapi_describes_dead_letters_with_their_headers():
    document = yaml.safe_load((GENERATED_DIR / "asyncapi.yaml").read_text())
    dead_letter = document["components"]["messages"]["deadLetter"]

    assert set(dead_letter["headers"]["properties"]) == {
        "x-error",
        "x-consumer",
        "x-source-topic",
        "x-source-partition",
        "x-source-offset",
    }
    assert set(dead_letters.DEAD_LETTER_HEADERS) == set(dead_letter["headers"]["properties"])


def test_asyncapi_describes_timer_dead_letters_with_their_headers():
    document = yaml.safe_load((GENERATED_DIR / "asyncapi.yaml").read_text())
    timer = document["components"]["messages"]["timerDeadLetter"]
    channel = document["channels"]["deadLetters"]

    assert "timerDeadLetter" in channel["messages"]
    assert set(timer["headers"]["required"]) == set(dead_letters.TIMER_DEAD_LETTER_HEADERS)
    assert "x-timer" in timer["headers"]["properties"]
    assert timer["payload"]["required"] == ["timer", "key", "due_on", "attempts"]
