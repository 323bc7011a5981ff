"""Which publishing failures park a row, which replace the producer, which are retried."""

from datetime import UTC, datetime

import pytest
from aiokafka.errors import (
    InvalidTopicError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RecordListTooLargeError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from services import cli
from services.ops.outbox import ParkedRow
from services.runtime.publish import Delivery, needs_new_producer, park_reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (MessageSizeTooLargeError(), "too_large"),
        (RecordListTooLargeError(), "too_large"),
        (TopicAuthorizationFailedError(), "unauthorized"),
        (InvalidTopicError(), "invalid_topic"),
    ],
)
def test_a_failure_that_no_retry_cures_parks_the_row(error: Exception, reason: str) -> None:
    assert park_reason(error) == reason
    assert not needs_new_producer(error)


@pytest.mark.parametrize(
    "error",
    [
        KafkaConnectionError(),
        KafkaTimeoutError(),
        RequestTimedOutError(),
        NotLeaderForPartitionError(),
        # A topic the producer has no metadata for is parked only once the cluster
        # confirms it is missing, never on this error alone.
        UnknownTopicOrPartitionError(),
        TimeoutError(),
        OSError(),
    ],
)
def test_a_transient_failure_is_retried_with_the_same_producer(error: Exception) -> None:
    assert park_reason(error) is None
    assert not needs_new_producer(error)


@pytest.mark.parametrize(
    "error",
    [OutOfOrderSequenceNumber(), ProducerFenced(), KafkaError("Unexpected error during batch")],
)
def test_a_fatal_producer_error_replaces_the_producer(error: Exception) -> None:
    assert park_reason(error) is None
    assert needs_new_producer(error)


def test_a_delivery_keeps_its_first_failure() -> None:
    delivery = Delivery()
    first, later = KafkaConnectionError(), OutOfOrderSequenceNumber()
    delivery.failed(first)
    delivery.failed(later)
    assert delivery.failure is first


def test_a_parked_row_is_described_without_its_payload() -> None:
    at = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    row = ParkedRow("planner", 42, "courseflow.dead-letters", 1_100_000, "too_large", at)
    assert row.describe() == (
        "planner 42 courseflow.dead-letters 1100000 bytes too_large 2026-12-01T04:30:00+00:00"
    )


def test_outbox_parked_refuses_a_service_name_that_is_not_a_schema_name(capsys) -> None:
    assert cli.main(["outbox", "parked", "--service", 'x"; DROP TABLE outbox']) == 2
    assert "not a safe schema name" in capsys.readouterr().err
