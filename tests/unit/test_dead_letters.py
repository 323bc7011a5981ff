"""Dead letters: cut to fit the broker, original headers kept, one per record (issue 11)."""

from services.runtime.deadletters import CUT_ORIGINALS_ABOVE_BYTES, dead_letter, dead_letter_id
from services.runtime.incoming import Incoming


def record(
    value: bytes = b"{}", key: bytes | None = b"P-1", headers: tuple[tuple[str, bytes], ...] = ()
) -> Incoming:
    return Incoming("clinic.patient-events", 3, 42, key, value, headers)


def headers_of(incoming: Incoming) -> dict[str, bytes]:
    letter = dead_letter(incoming, reason="bad", consumer="planner", topic="dead")
    return dict(letter.headers)


def test_an_original_too_large_to_publish_again_is_cut_to_its_first_64_kib_and_says_so() -> None:
    value = bytes(range(256)) * (3 * 1024)  # 768 KiB: near the broker's 1 MiB limit
    letter = dead_letter(record(value), reason="too big", consumer="planner", topic="dead")
    assert letter.value == value[: 64 * 1024]
    assert letter.key == b"P-1"
    headers = dict(letter.headers)
    assert headers["x-truncated"] == b"true"
    assert headers["x-original-size"] == str(len(value)).encode()
    assert "x-original-key-size" not in headers


def test_a_key_that_makes_the_original_too_large_is_cut_as_well() -> None:
    key = b"k" * (CUT_ORIGINALS_ABOVE_BYTES + 1)
    letter = dead_letter(record(b"{}", key=key), reason="bad", consumer="p", topic="dead")
    assert letter.key == key[:1024]
    assert letter.value == b"{}"
    headers = dict(letter.headers)
    assert headers["x-truncated"] == b"true"
    assert headers["x-original-key-size"] == str(len(key)).encode()


def test_an_original_that_can_be_published_again_keeps_its_bytes_unchanged() -> None:
    value = b"x" * (CUT_ORIGINALS_ABOVE_BYTES - len(b"P-1"))  # over the 64 KiB of a valid event
    letter = dead_letter(record(value), reason="bad", consumer="planner", topic="dead")
    assert letter.value == value
    assert letter.key == b"P-1"
    assert "x-truncated" not in dict(letter.headers)
    assert "x-original-size" not in dict(letter.headers)


def test_the_original_headers_are_kept_and_the_dead_letter_headers_win_a_clash() -> None:
    original = (("traceparent", b"00-abc-def-01"), ("x-error", b"forged"), ("ce_type", b"t"))
    headers = headers_of(record(headers=original))
    assert headers["traceparent"] == b"00-abc-def-01"
    assert headers["ce_type"] == b"t"
    assert headers["x-error"] == b"bad"
    letter = dead_letter(record(headers=original), reason="bad", consumer="p", topic="dead")
    assert [name for name, _ in letter.headers].count("x-error") == 1


def test_original_headers_the_outbox_cannot_store_are_left_out() -> None:
    original = (("binary", b"\xff\xfe"), ("nul", b"a\x00b"), ("na\x00me", b"v"), ("ok", b"v"))
    headers = headers_of(record(headers=original))
    assert headers["ok"] == b"v"
    assert not {"binary", "nul", "na\x00me"} & headers.keys()


def test_original_headers_beyond_their_budget_are_left_out() -> None:
    original = (("small", b"s"), ("huge", b"h" * 100_000), ("after", b"a"))
    headers = headers_of(record(headers=original))
    assert headers["small"] == b"s"
    assert headers["after"] == b"a"
    assert "huge" not in headers


def test_the_dead_letter_id_is_the_position_and_the_bytes() -> None:
    first = record(b'{"a": 1}')
    assert dead_letter_id(first) == dead_letter_id(record(b'{"a": 1}'))
    assert dead_letter_id(first) != dead_letter_id(record(b'{"a": 2}'))
    assert dead_letter_id(first) != dead_letter_id(record(b'{"a": 1}', key=b"P-2"))
    assert dead_letter_id(record(b"ab", key=b"c")) != dead_letter_id(record(b"b", key=b"ca"))
    assert dead_letter_id(record(key=None)) != dead_letter_id(record(key=b""))
    assert dead_letter_id(first).startswith("42:")
