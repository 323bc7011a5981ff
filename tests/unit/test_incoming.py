"""A consumed record as the runtime sees it keeps the original headers (issue 11, item 9)."""

from types import SimpleNamespace

from services.runtime.incoming import Incoming


def test_a_record_keeps_its_headers_and_a_null_header_value_reads_as_empty() -> None:
    record = SimpleNamespace(
        topic="t", partition=1, offset=5, key=b"P-1", value=b"{}",
        headers=[("traceparent", b"00-a-b-01"), ("empty", None)],
    )  # fmt: skip
    incoming = Incoming.from_record(record)
    assert incoming.headers == (("traceparent", b"00-a-b-01"), ("empty", b""))
    assert incoming.value == b"{}"
