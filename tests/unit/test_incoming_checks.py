"""What the runtime checks on a decoded record before SQL sees it (issue 11, item 2)."""

import pytest

from services.runtime.incoming import MAX_INBOX_FIELD_BYTES, input_problem


def problem(
    key: bytes | None = b"P-1", *, expected: str = "P-1", source: str = "/s", event_id: str = "e"
) -> str | None:
    return input_problem(key, expected, source=source, event_id=event_id, key_name="subject")


def test_a_record_keyed_by_its_subject_with_bounded_ids_is_fine() -> None:
    assert problem() is None
    assert problem(event_id="é" * (MAX_INBOX_FIELD_BYTES // 2)) is None


@pytest.mark.parametrize(
    ("key", "expected", "reason"),
    [
        (None, "P-1", "the record has no key"),
        (b"\xff\xfe", "P-1", "the record key is not UTF-8"),
        (b"P-\x001", "P-1", "the record key contains a NUL character"),
        (b"P-\x001", "P-\x001", "the record key contains a NUL character"),
        (b"P-2", "P-1", "the record key is not the event's subject"),
        (b"", "P-1", "the record key is not the event's subject"),
    ],
)
def test_a_record_key_must_be_text_without_nul_and_equal_to_the_subject(
    key: bytes | None, expected: str, reason: str
) -> None:
    assert problem(key, expected=expected) == reason


def test_the_key_is_named_as_the_service_keys_its_topic() -> None:
    found = input_problem(b"north", "south", source="/s", event_id="e", key_name="clinic_id")
    assert found == "the record key is not the event's clinic_id"


@pytest.mark.parametrize("field", ["source", "event_id"])
def test_an_inbox_field_the_index_cannot_hold_is_refused(field: str) -> None:
    name = "source" if field == "source" else "id"
    too_long = {field: "é" * (MAX_INBOX_FIELD_BYTES // 2 + 1)}
    assert problem(**too_long) == f"the event {name} is longer than {MAX_INBOX_FIELD_BYTES} bytes"  # type: ignore[arg-type]
    assert problem(**{field: "a\x00b"}) == f"the event {name} contains a NUL character"  # type: ignore[arg-type]
    assert problem(**{field: "a\ud800b"}) == f"the event {name} is not valid Unicode"  # type: ignore[arg-type]
    assert problem(**{field: ""}) == f"the event {name} is empty"  # type: ignore[arg-type]
