"""The notifier's memory of each patient's last eligibility decision (its own schema)."""

from services.notifier.decision_notices import PatientMemory
from services.runtime.db import Conn


async def load_for_update(conn: Conn, patient_id: str) -> PatientMemory:
    row = await conn.fetchrow(
        "SELECT version, blocked_by_postop, surgical_evaluation_advised, advised_stages, "
        "next_course_from "
        "FROM patients WHERE patient_id = $1 FOR UPDATE",
        patient_id,
    )
    if row is None:
        return PatientMemory()
    return PatientMemory(
        row["version"],
        row["blocked_by_postop"],
        row["surgical_evaluation_advised"],
        frozenset(row["advised_stages"]),
        row["next_course_from"],
    )


async def save(conn: Conn, patient_id: str, memory: PatientMemory) -> None:
    await conn.execute(
        "INSERT INTO patients (patient_id, version, blocked_by_postop, "
        "surgical_evaluation_advised, advised_stages, next_course_from) "
        "VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (patient_id) DO UPDATE SET version = EXCLUDED.version, "
        "blocked_by_postop = EXCLUDED.blocked_by_postop, "
        "surgical_evaluation_advised = EXCLUDED.surgical_evaluation_advised, "
        "advised_stages = EXCLUDED.advised_stages, next_course_from = EXCLUDED.next_course_from",
        patient_id,
        memory.version,
        memory.blocked_by_postop,
        memory.surgical_evaluation_advised,
        sorted(memory.advised_stages),
        memory.next_course_from,
    )
