"""The planner schema: one row per patient (the core's state as jsonb), reminders."""

import json
from datetime import date

from services.planner.state import PatientState
from services.runtime.db import Conn

ReminderKey = tuple[str, str]  # (patient_id, course_id)


async def load_for_update(conn: Conn, patient_id: str) -> PatientState:
    """Lock the patient's row, if there is one, for the rest of the transaction.

    The consumed batches already hold every patient's advisory lock (`pipeline.lock_keys`),
    so both topics take turns on a patient even before its row exists; the row lock makes a
    reminder's day, which only comes for a stored patient, wait its turn too.
    """
    raw = await conn.fetchval(
        "SELECT state::text FROM patients WHERE patient_id = $1 FOR UPDATE", patient_id
    )
    return PatientState() if raw is None else PatientState.from_json(json.loads(raw))


async def save(conn: Conn, patient_id: str, state: PatientState) -> None:
    await conn.execute(
        "INSERT INTO patients (patient_id, state) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
        patient_id,
        json.dumps(state.to_json()),
    )


async def arm_reminder(conn: Conn, patient_id: str, course_id: str, fire_on: date) -> None:
    await conn.execute(
        "INSERT INTO reminders (patient_id, course_id, fire_on) VALUES ($1, $2, $3) "
        "ON CONFLICT (patient_id, course_id) DO UPDATE SET fire_on = EXCLUDED.fire_on",
        patient_id,
        course_id,
        fire_on,
    )


async def clear_reminder(conn: Conn, key: ReminderKey) -> None:
    await conn.execute(
        "DELETE FROM reminders WHERE patient_id = $1 AND course_id = $2", key[0], key[1]
    )


async def claim_due_reminders(conn: Conn, today: date, limit: int) -> list[ReminderKey]:
    """Reminders due by `today`, locked for this transaction; other replicas skip them."""
    rows = await conn.fetch(
        "SELECT patient_id, course_id FROM reminders WHERE fire_on <= $1 "
        "ORDER BY fire_on, patient_id, course_id LIMIT $2 FOR UPDATE SKIP LOCKED",
        today,
        limit,
    )
    return [(row["patient_id"], row["course_id"]) for row in rows]
