"""The notifier's per-patient memory on the real broker and database (its `patients` table).

Events of one patient on one topic are handled in order, so once the last notice of a run
is queued every earlier event of that topic has been handled: no sleeps, only that marker.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from tests.integration.kafka_io import eventually
from tests.integration.peers import notifier_harness as h

ADVISED = ["surgical_evaluation_advised"]
POSTOP = [{"rule": "R-POSTOP", "since": "2026-03-04", "until": "2026-03-18"}]


@pytest.fixture
async def notifier(bootstrap: str, suffix: str, tmp_path: Path) -> AsyncIterator[h.Notifier]:
    routing = h.routing_file(tmp_path, {"log": {"channel": "log"}})
    service = await h.Notifier.start(bootstrap, suffix, routing)
    try:
        yield service
    finally:
        await service.runtime.stop()


async def queued_after_marker(
    db: asyncpg.Connection, notifier: h.Notifier, patient: str
) -> list[asyncpg.Record]:
    """Every notice queued for `patient`, once the rehab notice that closes the run is."""
    table = f"notif_{notifier.suffix}.deliveries"

    async def rows() -> list[asyncpg.Record] | None:
        found = await db.fetch(
            f"SELECT kind, summary, rules FROM {table} WHERE patient_id = $1 ORDER BY created_at",
            patient,
        )
        return found if any(r["kind"] == "rehab_course_eligible" for r in found) else None

    result: list[asyncpg.Record] = await eventually(rows)
    return result


async def test_r_advanced_stage_once_per_patient_and_stage_across_decisions(
    notifier: h.Notifier, db: asyncpg.Connection
) -> None:
    patient = h.new_patient()
    decisions = [
        h.decision_event(patient, 1, eligible=True, restrictions=ADVISED, advanced_stage=3),
        h.decision_event(patient, 2, eligible=True),
        h.decision_event(patient, 3, eligible=True, restrictions=ADVISED, advanced_stage=3),
        h.decision_event(patient, 4, eligible=True, restrictions=ADVISED, advanced_stage=4),
        h.decision_event(patient, 5, eligible=False, blocks=POSTOP),
        h.decision_event(patient, 6, eligible=True),
    ]
    await notifier.send(*decisions, topic="elig")
    queued = await queued_after_marker(db, notifier, patient)
    advised = [r["summary"] for r in queued if r["kind"] == "surgical_evaluation_advised"]
    assert advised == [
        f"Patient {patient}: advanced arthrosis (stage {stage}): surgical evaluation advised; "
        "massage stays allowed (R-ADVANCED-STAGE)"
        for stage in (3, 4)
    ]
    remembered = await db.fetchval(
        f"SELECT advised_stages FROM notif_{notifier.suffix}.patients WHERE patient_id = $1",
        patient,
    )
    assert remembered == [3, 4]


async def test_r_postop_rehab_notice_names_the_r_course_break_of_the_cancelled_course(
    notifier: h.Notifier, db: asyncpg.Connection
) -> None:
    patient = h.new_patient()
    break_ends = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()  # after "today"
    cancelled = h.schedule_event("cancelled", patient, next_course_earliest_on=break_ends)
    await notifier.send(cancelled)
    await eventually(
        lambda: db.fetchval(
            f"SELECT next_course_from FROM notif_{notifier.suffix}.patients WHERE patient_id = $1",
            patient,
        )
    )
    blocked = h.decision_event(patient, 1, eligible=False, blocks=POSTOP)
    await notifier.send(blocked, h.decision_event(patient, 2, eligible=True), topic="elig")
    queued = await queued_after_marker(db, notifier, patient)
    (rehab,) = [r for r in queued if r["kind"] == "rehab_course_eligible"]
    assert rehab["rules"] == ["R-POSTOP", "R-COURSE-BREAK"]
    assert f"a rehabilitation course may start on or after {break_ends}" in rehab["summary"]
