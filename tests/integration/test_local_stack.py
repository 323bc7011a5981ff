"""`courseflow stack up` twice is harmless; the broker's jars are cached after the first run."""

import pytest

from services.stack import stack
from services.stack.kafka import KafkaStack
from services.stack.postgres import PostgresStack


def test_second_up_finds_the_running_stack_and_makes_no_download() -> None:
    kafka = KafkaStack.from_env()
    assert kafka.installed_version() is not None
    assert kafka.installed_version().startswith("4.")  # type: ignore[union-attr]
    assert kafka.ensure_jars() == (kafka.installed_version(), False)
    assert "already running" in kafka.up()
    message = PostgresStack.from_env().up()
    assert "already running" in message or "DATABASE_URL" in message


def test_status_reports_both_as_answering() -> None:
    assert "answering=True" in KafkaStack.from_env().status()
    assert "answering=True" in PostgresStack.from_env().status()


def test_a_cluster_is_not_started_over_the_running_single_broker() -> None:
    with pytest.raises(RuntimeError, match="the single broker is running"):
        stack.up(brokers=3)
    assert "answering=True" in KafkaStack.from_env().status()
