"""Log canary: free text and the values of rejected input never reach a log line."""

import json
from typing import Any

import pytest

from services.eligibility.app import build_runtime as eligibility_runtime
from services.eligibility.settings import EligibilitySettings
from services.notifier.app import build_runtime as notifier_runtime
from services.notifier.settings import NotifierSettings
from services.planner.app import build_runtime as planner_runtime
from services.planner.settings import PlannerSettings
from tests.clinic_events import ClinicFeed, wire
from tests.integration.kafka_io import produce, read_until

CANARY = "CANARY7f3a"


def topics(suffix: str) -> dict[str, Any]:
    return {
        "topic_patient_events": f"clinic-{suffix}", "topic_eligibility": f"elig-{suffix}",
        "topic_schedule": f"sched-{suffix}", "topic_notices": f"notices-{suffix}",
        "topic_dead_letters": f"dead-{suffix}", "topic_partitions": 2, "log_format": "json",
        "outbox_poll_interval_s": 0.2,
    }  # fmt: skip


def poison_messages(feed: ClinicFeed) -> list[bytes]:
    from datetime import UTC, datetime  # noqa: PLC0415

    today = datetime.now(UTC).date()
    valid: dict[str, Any] = json.loads(wire(feed.prescribed(today, "C-1"))[1])
    name_as_subject = {**valid, "subject": f"Jane {CANARY} Doe"}
    bad_cadence = {**valid, "data": {**valid["data"], "cadence": f"{CANARY}-daily"}}
    unknown_field = {**valid, "data": {**valid["data"], f"{CANARY}_note": CANARY}}
    unknown_type = {**valid, "type": f"clinic.{CANARY}.reported"}
    bad_source = {**valid, "source": f"not a uri {CANARY}"}
    return [
        json.dumps(m).encode()
        for m in (name_as_subject, bad_cadence, unknown_field, unknown_type, bad_source)
    ] + [f'{{"note": "{CANARY}", broken'.encode(), b'{"pad": "' + CANARY.encode() * 9000 + b'"}']


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_no_canary_reaches_any_log_line(
    bootstrap: str, suffix: str, capfd: pytest.CaptureFixture[str]
) -> None:
    runtimes = [
        eligibility_runtime(EligibilitySettings(**topics(suffix)), name=f"elig_{suffix}")[0],
        planner_runtime(PlannerSettings(**topics(suffix)), name=f"plan_{suffix}")[0],
        notifier_runtime(NotifierSettings(**topics(suffix)), name=f"noti_{suffix}")[0],
    ]
    for runtime in runtimes:
        await runtime.start()
    try:
        from datetime import UTC, datetime  # noqa: PLC0415

        today = datetime.now(UTC).date()
        feed = ClinicFeed()
        withdrawal = feed.event("clinic.patient.withdrawn", today,
                                {"reason": f"moved in with {CANARY} (free text)"})  # fmt: skip
        valid = [feed.enrolled(today), feed.prescribed(today, "C-1"), withdrawal]
        for event in valid:
            key, value = wire(event)
            await produce(bootstrap, f"clinic-{suffix}", value, key=key)
        poison = poison_messages(feed)
        for value in poison:
            await produce(bootstrap, f"clinic-{suffix}", value, key=feed.patient.encode())

        expected_dead = 2 * len(poison)  # eligibility and planner both reject each one
        dead = await read_until(bootstrap, f"dead-{suffix}", lambda rs: len(rs) >= expected_dead)
        assert len(dead) == expected_dead

        def cancelled(records: list[Any]) -> bool:
            return any(b"courseflow.course.cancelled" in r.value for r in records)

        assert cancelled(await read_until(bootstrap, f"sched-{suffix}", cancelled))
        await read_until(bootstrap, f"notices-{suffix}", lambda rs: len(rs) >= 2)
    finally:
        for runtime in runtimes:
            await runtime.stop()
    captured = capfd.readouterr()
    lines = (captured.out + captured.err).splitlines()
    assert any('"dead-lettered"' in line for line in lines)  # the logs were captured
    leaked = [line for line in lines if CANARY in line]
    assert leaked == []
