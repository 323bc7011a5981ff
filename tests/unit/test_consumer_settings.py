"""How a consumer paces its fetches: records gather into larger transactions while traffic
flows, and nothing waits that need not."""

from services.runtime.settings import ServiceSettings


def test_a_consumer_pauses_only_after_a_batch_that_more_records_could_have_joined() -> None:
    settings = ServiceSettings(consumer_max_records=500, consumer_gather_ms=50)
    assert settings.gather_pause_s(2) == settings.gather_pause_s(499) == 0.05
    assert settings.gather_pause_s(1) == 0.0  # a low rate: the next record goes on at once
    assert settings.gather_pause_s(500) == 0.0  # a full batch: more are waiting already


def test_no_pause_when_gathering_is_turned_off() -> None:
    assert ServiceSettings(consumer_gather_ms=0).gather_pause_s(100) == 0.0
