"""Log lines are JSON with allow-listed keys only: payload values never reach a log line."""

import json

import pytest

from services.runtime import logs


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]):
    def read() -> list[dict[str, object]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]

    return read


def test_lines_are_json_and_carry_the_service(log_lines) -> None:
    log = logs.configure("planner", fmt="json")
    log.info("handled", event_id="e-1", patient_id="P-1", latency_ms=1.5, rules=["R-FLARE"])
    (line,) = log_lines()
    assert line["event"] == "handled"
    assert line["service"] == "planner"
    assert line["patient_id"] == "P-1"
    assert line["rules"] == ["R-FLARE"]
    assert line["level"] == "info"
    assert "timestamp" in line


def test_keys_outside_the_allow_list_never_reach_a_line(log_lines) -> None:
    log = logs.configure("eligibility", fmt="json")
    log.warning("rejected", reason="data.sessions: out of range", data={"name": "CANARY-NAME"},
                value="CANARY-VALUE", input="CANARY-INPUT")  # fmt: skip
    (line,) = log_lines()
    assert line["reason"] == "data.sessions: out of range"
    assert "CANARY" not in json.dumps(line)


def test_faststream_extra_is_flattened_and_filtered(log_lines) -> None:
    log = logs.configure("notifier", fmt="json")
    log.info("received", extra={"topic": "courseflow.schedule", "message_id": "m-1",
                                "body": "CANARY-BODY"})  # fmt: skip
    (line,) = log_lines()
    assert line["topic"] == "courseflow.schedule"
    assert line["message_id"] == "m-1"
    assert "extra" not in line
    assert "CANARY" not in json.dumps(line)


def test_level_filter_drops_debug_lines(log_lines) -> None:
    log = logs.configure("planner", level="INFO", fmt="json")
    log.debug("noise")
    log.info("kept")
    assert [line["event"] for line in log_lines()] == ["kept"]


def test_an_exception_is_named_by_its_type_never_by_its_text(log_lines) -> None:
    """FastStream's error lines: "{type}: {text}" and the repr, with the exception attached."""
    log = logs.configure("planner", fmt="json")
    error = ValueError("invalid input syntax for type uuid: 'CANARY-NAME'")
    faststream_message = "ValueError: " + str(error)
    log.error(faststream_message, exc_info=error, topic="t")
    log.critical(repr(error), exc_info=error)
    try:
        dict[str, str]()["CANARY-KEY"]
    except KeyError:
        log.exception("lookup failed: 'CANARY-KEY'")
    first, second, third = log_lines()
    assert first["event"] == "ValueError: (text hidden)"
    assert (first["error"], first["topic"]) == ("ValueError", "t")
    assert second["event"] == "ValueError (text hidden)"
    assert third["error"] == "KeyError"
    assert "CANARY" not in json.dumps([first, second, third])
