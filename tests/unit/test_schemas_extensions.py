"""CloudEvents extension attributes, W3C Trace Context, and integers too long to parse.

CONTRACT.md: "other CloudEvents extension attributes are accepted and ignored; `traceparent`
/ `tracestate` (W3C Trace Context) are carried onto every event they cause".
"""

from datetime import UTC, datetime
from typing import Any

import pytest

from schemas import codec
from schemas.causes import Cause
from schemas.codec import InvalidEvent
from schemas.eligibility import EligibilityDecided
from tests.unit.test_schemas_invalid import CANARY, FLARE, PRESCRIBED, event

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"


def rejected(raw: bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        codec.parse_event(raw)
    return caught.value


def test_an_integer_too_long_for_python_is_rejected_as_such_without_its_digits() -> None:
    digits = "7" * 5000
    raw = event(PRESCRIBED).replace(b'"sessions": 15', f'"sessions": {digits}'.encode())
    assert digits.encode() in raw

    error = rejected(raw)

    assert error.reason == "event is not valid JSON: an integer has too many digits"
    assert "777" not in error.reason


def test_a_long_negative_integer_anywhere_is_rejected_the_same_way() -> None:
    raw = event(FLARE, comexampleext=-1).replace(b"-1", b"-" + b"9" * 4400)

    error = rejected(raw)

    assert error.reason == "event is not valid JSON: an integer has too many digits"


@pytest.mark.parametrize(
    "extensions",
    [
        {"comexampleextension1": "value"},
        {"comexampleothervalue": 5},
        {"dataschema": "https://example.org/schema", "sampled": True, "partitionkey": None},
        {"a" * 20: "twenty characters is the longest name"},
    ],
)
def test_extension_attributes_are_accepted_and_ignored(extensions: dict[str, Any]) -> None:
    parsed = codec.parse_event(event(FLARE, **extensions))

    assert parsed.type == FLARE
    assert codec.to_bytes(parsed) == codec.to_bytes(codec.parse_event(event(FLARE)))


@pytest.mark.parametrize(
    "name",
    ["Upper", "with_underscore", "x-dash", "a" * 21, "dotted.name", "spaced name", "ü"],
)
def test_an_attribute_name_cloudevents_does_not_allow_is_rejected(name: str) -> None:
    attributes: dict[str, Any] = {name: CANARY}
    error = rejected(event(FLARE, **attributes))

    assert "Extra inputs are not permitted" in error.reason
    assert CANARY.lower() not in error.reason.lower()


@pytest.mark.parametrize("value", [{"nested": CANARY}, [CANARY], 1.5])
def test_an_extension_whose_value_is_not_a_cloudevents_type_is_rejected(value: Any) -> None:
    error = rejected(event(FLARE, comexample=value))

    assert error.field == "comexample"
    assert CANARY.lower() not in error.reason.lower()


def test_unknown_data_fields_are_still_rejected() -> None:
    error = rejected(event(FLARE, data={"patientname": CANARY}))

    assert error.field == "data.patientname"


def test_trace_context_is_parsed_and_written_back() -> None:
    parsed = codec.parse_event(event(FLARE, traceparent=TRACEPARENT, tracestate=TRACESTATE))

    assert (parsed.traceparent, parsed.tracestate) == (TRACEPARENT, TRACESTATE)
    assert f'"traceparent":"{TRACEPARENT}"'.encode() in codec.to_bytes(parsed)


@pytest.mark.parametrize(
    "traceparent",
    [
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # unknown version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # invalid trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # invalid parent id
        f"00-{CANARY}",
    ],
)
def test_a_malformed_traceparent_is_rejected_without_its_value(traceparent: str) -> None:
    error = rejected(event(FLARE, traceparent=traceparent))

    assert error.field == "traceparent"
    assert "W3C" in error.reason
    assert traceparent[3:20] not in error.reason


@pytest.mark.parametrize("tracestate", ["x" * 600, f"no equals sign {CANARY}", "a=b\n"])
def test_a_malformed_tracestate_is_rejected_without_its_value(tracestate: str) -> None:
    error = rejected(event(FLARE, traceparent=TRACEPARENT, tracestate=tracestate))

    assert error.field == "tracestate"
    assert "xxxx" not in error.reason
    assert CANARY.lower() not in error.reason.lower()


def test_the_cause_of_an_event_carries_its_correlation_and_trace_context() -> None:
    flare = codec.parse_event(
        event(FLARE, correlationid="corr-9", traceparent=TRACEPARENT, tracestate=TRACESTATE)
    )
    cause = Cause.of(flare)
    caused = codec.new_event(
        EligibilityDecided, source="/courseflow/eligibility", subject="P-000123",
        data=_decided_data(), time=datetime(2026, 11, 20, tzinfo=UTC), **cause.attributes(),
    )  # fmt: skip

    assert caused.causationid == flare.id
    assert caused.correlationid == "corr-9"
    assert (caused.traceparent, caused.tracestate) == (TRACEPARENT, TRACESTATE)


def test_without_a_trace_context_the_caused_event_has_none() -> None:
    cause = Cause.of(codec.parse_event(event(FLARE, correlationid=None)))
    caused = codec.new_event(
        EligibilityDecided, source="/courseflow/eligibility", subject="P-000123",
        data=_decided_data(), time=datetime(2026, 11, 20, tzinfo=UTC), **cause.attributes(),
    )  # fmt: skip

    assert caused.correlationid == caused.causationid
    assert b"trace" not in codec.to_bytes(caused)


def _decided_data() -> dict[str, Any]:
    return {"eligible": True, "eligible_from": None, "blocks": [], "restrictions": [],
            "version": 1}  # fmt: skip
