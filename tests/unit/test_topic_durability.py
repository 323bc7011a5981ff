"""Replication factor and min.insync.replicas fit the cluster's size unless set."""

import pytest

from services.runtime.settings import ServiceSettings
from services.runtime.topics import Durability, durability_for


@pytest.mark.parametrize(
    ("brokers", "expected"),
    [(1, Durability(1, 1)), (2, Durability(2, 1)), (3, Durability(3, 2)), (5, Durability(3, 2))],
)
def test_unset_settings_follow_the_number_of_brokers(brokers: int, expected: Durability) -> None:
    assert durability_for(brokers) == expected


def test_settings_win_over_the_derived_choice() -> None:
    assert durability_for(5, replication_factor=5, min_insync_replicas=3) == Durability(5, 3)
    assert durability_for(3, replication_factor=2) == Durability(2, 1)
    assert durability_for(3, min_insync_replicas=3) == Durability(3, 3)


def test_min_insync_replicas_is_a_topic_config() -> None:
    assert Durability(3, 2).topic_configs() == {"min.insync.replicas": "2"}


def test_more_replicas_than_brokers_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs at least 3 brokers"):
        durability_for(1, replication_factor=3)


def test_more_in_sync_replicas_than_replicas_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no write could ever be acknowledged"):
        durability_for(3, replication_factor=2, min_insync_replicas=3)


def test_several_bootstrap_servers_are_separate_hosts() -> None:
    settings = ServiceSettings(kafka_bootstrap_servers="127.0.0.1:1, 127.0.0.1:3,127.0.0.1:5")
    assert settings.kafka_bootstrap_list == ["127.0.0.1:1", "127.0.0.1:3", "127.0.0.1:5"]
