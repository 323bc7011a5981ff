"""A run's own topics: the settings they give point every service at exactly those topics."""

import importlib

import pytest

from services import SERVICES
from services.runtime.launcher import service_settings
from services.runtime.topics import RunTopics


@pytest.fixture
def topics(monkeypatch: pytest.MonkeyPatch) -> RunTopics:
    """A run's topics, set in the environment the services' settings read."""
    run = RunTopics.under("run.7")
    for variable, value in run.env().items():
        monkeypatch.setenv(variable, value)
    return run


@pytest.mark.parametrize("service", SERVICES)
def test_the_settings_of_a_run_name_its_topics(service: str, topics: RunTopics) -> None:
    settings = service_settings(service)
    configured = [
        settings.topic_patient_events, settings.topic_eligibility, settings.topic_schedule,
        settings.topic_notices, settings.topic_dead_letters, settings.topic_staff_events,
        settings.topic_planner_commands,
    ]  # fmt: skip
    assert configured == topics.every
    assert set(topics.inputs(service)) <= set(topics.every)
    assert len(set(topics.every)) == len(topics.every)


@pytest.mark.parametrize("service", SERVICES)
def test_a_run_knows_the_consumers_each_service_builds(service: str, topics: RunTopics) -> None:
    # Tests and benchmarks wait for a group with one member per consumer of each process.
    app = importlib.import_module(f"services.{service}.app")
    runtime, _ = app.build_runtime(service_settings(service))
    built = [list(subscriber.topic_names) for subscriber in runtime.broker.subscribers]
    assert sorted(built) == sorted(topics.consumers(service))
