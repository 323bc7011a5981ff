"""The garbage collector as a service runs it (`services.runtime.collector`)."""

import gc
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from services.runtime.collector import OLDER_EVERY, collect_less, freeze_start_up
from services.runtime.settings import ServiceSettings


@pytest.fixture
def collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_service_collects_its_young_objects_less_often_and_its_start_up_never(
    collector: None,
) -> None:
    collect_less(ServiceSettings().gc_young_threshold)
    assert gc.get_threshold() == (50_000, OLDER_EVERY, OLDER_EVERY)
    assert gc.get_freeze_count() == 0
    freeze_start_up()
    assert gc.get_freeze_count() > 0  # every object alive now: start-up's, this test's


def test_the_young_threshold_is_a_setting_never_below_pythons_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSEFLOW_GC_YOUNG_THRESHOLD", "10000")
    assert ServiceSettings().gc_young_threshold == 10_000
    monkeypatch.setenv("COURSEFLOW_GC_YOUNG_THRESHOLD", "100")
    with pytest.raises(ValidationError, match="gc_young_threshold"):
        ServiceSettings()
