"""The eligibility schema: one row per patient (timeline + last published decision), timers."""

import json
from datetime import date

from services.eligibility.decision import Decision
from services.eligibility.patient import PatientRecord
from services.eligibility.timeline import Timeline
from services.runtime.db import Conn
from services.runtime.timers import TimerTable

TIMERS = TimerTable("eligibility.decision-timer", "timers", ("patient_id",), "due_on")


async def load_for_update(conn: Conn, patient_id: str) -> PatientRecord | None:
    """Lock the patient's row so concurrent handlers of one patient take turns."""
    row = await conn.fetchrow(
        "SELECT timeline::text, decision::text, version FROM patients "
        "WHERE patient_id = $1 FOR UPDATE",
        patient_id,
    )
    if row is None:
        return None
    decision = Decision.from_json(json.loads(row["decision"])) if row["decision"] else None
    return PatientRecord(Timeline.from_json(json.loads(row["timeline"])), decision, row["version"])


async def save(conn: Conn, patient_id: str, record: PatientRecord) -> None:
    decision = json.dumps(record.decision.to_json()) if record.decision else None
    await conn.execute(
        "INSERT INTO patients (patient_id, timeline, decision, version) "
        "VALUES ($1, $2::jsonb, $3::jsonb, $4) ON CONFLICT (patient_id) DO UPDATE SET "
        "timeline = EXCLUDED.timeline, decision = EXCLUDED.decision, "
        "version = EXCLUDED.version, updated_at = now()",
        patient_id,
        json.dumps(record.timeline.to_json()),
        decision,
        record.version,
    )


async def set_timer(conn: Conn, patient_id: str, due_on: date | None) -> None:
    """Arm (a fresh timer: earlier failures forgotten) or clear the patient's timer."""
    if due_on is None:
        await conn.execute("DELETE FROM timers WHERE patient_id = $1", patient_id)
        return
    await conn.execute(
        "INSERT INTO timers (patient_id, due_on) VALUES ($1, $2) "
        "ON CONFLICT (patient_id) DO UPDATE SET due_on = EXCLUDED.due_on, "
        "attempts = 0, retry_at = NULL, set_aside_at = NULL",
        patient_id,
        due_on,
    )
