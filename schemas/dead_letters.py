"""Kafka headers on `courseflow.dead-letters`; the value and key are the original ones."""

from typing import Final

ERROR_HEADER: Final = "x-error"
CONSUMER_HEADER: Final = "x-consumer"
SOURCE_TOPIC_HEADER: Final = "x-source-topic"
SOURCE_PARTITION_HEADER: Final = "x-source-partition"
SOURCE_OFFSET_HEADER: Final = "x-source-offset"

DEAD_LETTER_HEADERS: Final = {
    ERROR_HEADER: "one-line reason, never containing input values",
    CONSUMER_HEADER: "the service that rejected the message",
    SOURCE_TOPIC_HEADER: "topic the message was read from",
    SOURCE_PARTITION_HEADER: "partition the message was read from (decimal)",
    SOURCE_OFFSET_HEADER: "offset the message was read from (decimal)",
}

TIMER_HEADER: Final = "x-timer"

TIMER_DEAD_LETTER_HEADERS: Final = {
    ERROR_HEADER: "one-line reason and the number of attempts, never containing input values",
    CONSUMER_HEADER: "the service whose timer it is",
    TIMER_HEADER: "the timer: <kind>:<key>, the parts of a composite key joined by /",
}
"""A durable timer that failed for the last time: not a record, so no x-source-* headers."""
