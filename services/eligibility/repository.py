"""The eligibility schema: one row per patient (timeline + last published decision), timers."""

import json
from collections.abc import Mapping, Sequence
from datetime import date

import asyncpg

from services.eligibility.decider import NEW_PATIENT, Command, Output, TimerSet
from services.eligibility.decision import Decision
from services.eligibility.patient import PatientRecord
from services.eligibility.timeline import Timeline
from services.runtime.db import Conn, states_by_key
from services.runtime.decider import Decided
from services.runtime.timers import TimerTable

TIMERS = TimerTable("eligibility.decision-timer", "timers", ("patient_id",), "due_on")


class EligibilityRepository:
    """Rows of the patients a batch holds the locks of (`services.runtime.locks`)."""

    async def load_many(self, conn: Conn, keys: Sequence[str]) -> dict[str, PatientRecord]:
        return await states_by_key(
            conn,
            "SELECT patient_id, timeline::text, decision::text, version FROM patients "
            "WHERE patient_id = ANY($1::text[])",
            keys, NEW_PATIENT, _record,
        )  # fmt: skip

    async def save_many(
        self,
        conn: Conn,
        states: Mapping[str, PatientRecord],
        decided: Sequence[Decided[Command, PatientRecord, Output]],
    ) -> None:
        if states:
            await conn.execute(
                "INSERT INTO patients (patient_id, timeline, decision, version) "
                "SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::int[]) "
                "ON CONFLICT (patient_id) DO UPDATE SET timeline = EXCLUDED.timeline, "
                "decision = EXCLUDED.decision, version = EXCLUDED.version, updated_at = now()",
                list(states),
                [json.dumps(record.timeline.to_json()) for record in states.values()],
                [_decision_json(record.decision) for record in states.values()],
                [record.version for record in states.values()],
            )
        await _set_timers(conn, _latest_timers(decided))


def _record(row: asyncpg.Record) -> PatientRecord:
    decision = Decision.from_json(json.loads(row["decision"])) if row["decision"] else None
    return PatientRecord(Timeline.from_json(json.loads(row["timeline"])), decision, row["version"])


def _decision_json(decision: Decision | None) -> str | None:
    return None if decision is None else json.dumps(decision.to_json())


def _latest_timers(
    decided: Sequence[Decided[Command, PatientRecord, Output]],
) -> dict[str, date | None]:
    timers: dict[str, date | None] = {}
    for one in decided:
        for output in one.outputs:
            if isinstance(output, TimerSet):
                timers[one.key] = output.on
    return timers


async def _set_timers(conn: Conn, timers: Mapping[str, date | None]) -> None:
    """Arm (a fresh timer: earlier failures forgotten) or clear each patient's timer."""
    cleared = sorted(key for key, on in timers.items() if on is None)
    armed = sorted((key, on) for key, on in timers.items() if on is not None)
    if cleared:
        await conn.execute("DELETE FROM timers WHERE patient_id = ANY($1::text[])", cleared)
    if armed:
        await conn.execute(
            "INSERT INTO timers (patient_id, due_on) SELECT * FROM unnest($1::text[], $2::date[]) "
            "ON CONFLICT (patient_id) DO UPDATE SET due_on = EXCLUDED.due_on, "
            "attempts = 0, retry_at = NULL, set_aside_at = NULL",
            [key for key, _ in armed],
            [on for _, on in armed],
        )
