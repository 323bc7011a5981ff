"""A valid event is parsed once, by pydantic from the bytes; a repeated key is still refused.

pydantic's parser keeps the last of a repeated key silently, so the codec proves from the
bytes and the parsed event that no key was repeated, and takes the careful way (the
standard library's parser first, as before) whenever it cannot.
"""

import json
from typing import Any

import pytest

from schemas import codec
from schemas.codec import InvalidEvent
from schemas.examples import EXAMPLES
from tests.unit.test_schemas_invalid import FLARE, SCHEDULED, event


@pytest.fixture
def careful_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every event that took the careful way (a second parse)."""
    taken: list[bytes] = []
    careful = codec._parse_carefully

    def counted(raw: bytes, adapter: Any) -> Any:
        taken.append(raw)
        return careful(raw, adapter)

    monkeypatch.setattr(codec, "_parse_carefully", counted)
    return taken


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
@pytest.mark.parametrize("compact", [True, False], ids=["compact", "spaced"])
def test_a_valid_event_is_parsed_once(
    event_type: str, *, compact: bool, careful_parses: list[bytes]
) -> None:
    separators = (",", ":") if compact else (", ", ": ")
    raw = json.dumps(EXAMPLES[event_type], separators=separators).encode()

    assert codec.parse_event(raw).type == event_type
    assert careful_parses == []


def test_an_event_published_by_a_service_is_parsed_once(careful_parses: list[bytes]) -> None:
    raw = codec.to_bytes(codec.parse_event(event(SCHEDULED)))

    assert codec.parse_event(raw).type == SCHEDULED
    assert careful_parses == []


def repeated(raw: bytes, key: bytes, value: bytes, *, written_as: bytes | None = None) -> bytes:
    """`raw` with `key` written once more, first (so pydantic would keep the original)."""
    first = raw.index(b'"' + key + b'"')
    return raw[:first] + b'"' + (written_as or key) + b'": ' + value + b", " + raw[first:]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (repeated(event(FLARE), b"subject", b'"P-999"'), "envelope"),
        (repeated(event(FLARE), b"started_on", b'"2026-01-01"'), "data"),
        (repeated(event(SCHEDULED), b"duration_min", b"7"), "a session inside data"),
        # The same key spelt with a JSON escape is the same key.
        (repeated(event(FLARE), b"subject", b'"P-999"', written_as=b"subj\\u0065ct"), "escaped"),
        (repeated(event(FLARE), b"subject", b'"P-999"').replace(b'": ', b'" : '), "spaced"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_repeated_key_is_refused_wherever_it_is(
    raw: bytes, where: str, careful_parses: list[bytes]
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        codec.parse_event(raw)

    assert caught.value.reason == "event has a duplicate key in a JSON object", where
    assert careful_parses == [raw]


WITHDRAWN = "clinic.patient.withdrawn"


@pytest.mark.parametrize(
    ("raw", "careful"),
    [
        (event(FLARE).replace(b'": ', b'"\t:\n'), False),  # white space before each colon
        (event(WITHDRAWN, data={"reason": 'moved: "away": far'}), True),  # `":` in a string
        (event(WITHDRAWN, data={"reason": '":'}), True),  # a string that starts with a colon
        (event(WITHDRAWN, data={"reason": "C:\\"}), False),  # ends in an escaped backslash
    ],
    ids=[
        "white space before colons",
        "quote and colon in a string",
        "opening quote and colon",
        "escaped backslash",
    ],
)
def test_what_only_looks_like_a_repeated_key_is_accepted(
    raw: bytes, *, careful: bool, careful_parses: list[bytes]
) -> None:
    parsed = codec.parse_event(raw)

    assert parsed.type in {FLARE, WITHDRAWN}
    assert careful_parses == ([raw] if careful else [])
