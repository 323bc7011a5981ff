"""The planner schema: one row per patient (the core's state as jsonb), reminders.

Within a consumed batch (`states_of_batch`), the states of the batch's patients are loaded
with one query, handed from event to event in memory, and the changed ones are written back
with one statement when the batch ends, in the same transaction. Outside a batch (a
reminder's day, a batch run again event by event) every call goes to the database.
"""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

from services.planner.state import PatientState
from services.runtime.db import Conn
from services.runtime.timers import TimerTable

ReminderKey = tuple[str, str]  # (patient_id, course_id)
REMINDERS = TimerTable(
    "planner.next-course-reminder", "reminders", ("patient_id", "course_id"), "fire_on"
)


@dataclass
class _BatchStates:
    states: dict[str, PatientState]
    changed: set[str] = field(default_factory=set)
    reminders: dict[ReminderKey, date] = field(default_factory=dict)


_batch: ContextVar[_BatchStates | None] = ContextVar("planner_batch", default=None)


@asynccontextmanager
async def states_of_batch(conn: Conn, patient_ids: Sequence[str]) -> AsyncIterator[None]:
    """Lock and load the patients' rows at once; write back what changed at the end."""
    rows = await conn.fetch(
        "SELECT patient_id, state::text FROM patients WHERE patient_id = ANY($1::text[]) "
        "ORDER BY patient_id FOR UPDATE",
        sorted(set(patient_ids)),
    )
    states = {pid: PatientState() for pid in patient_ids}
    states |= {row["patient_id"]: _state(row["state"]) for row in rows}
    batch = _BatchStates(states)
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    await _save_many(conn, {pid: batch.states[pid] for pid in sorted(batch.changed)})
    for (patient_id, course_id), fire_on in batch.reminders.items():
        await arm_reminder(conn, patient_id, course_id, fire_on)


async def load_for_update(conn: Conn, patient_id: str) -> PatientState:
    """Lock the patient's row, if there is one, for the rest of the transaction.

    The consumed batches already hold every patient's advisory lock (`locks.lock_keys`),
    so both topics take turns on a patient even before its row exists; the row lock makes a
    reminder's day, which only comes for a stored patient, wait its turn too.
    """
    batch = _batch.get()
    if batch is not None and patient_id in batch.states:
        return batch.states[patient_id]
    raw = await conn.fetchval(
        "SELECT state::text FROM patients WHERE patient_id = $1 FOR UPDATE", patient_id
    )
    return _state(raw)


async def save(conn: Conn, patient_id: str, state: PatientState) -> None:
    batch = _batch.get()
    if batch is not None and patient_id in batch.states:
        batch.states[patient_id] = state
        batch.changed.add(patient_id)
        return
    await _save_many(conn, {patient_id: state})


async def arm(conn: Conn, patient_id: str, course_id: str, fire_on: date) -> None:
    """A reminder refers to the patient's row: within a batch it is written after it."""
    batch = _batch.get()
    if batch is not None and patient_id in batch.states:
        batch.reminders[(patient_id, course_id)] = fire_on
        return
    await arm_reminder(conn, patient_id, course_id, fire_on)


def _state(raw: str | None) -> PatientState:
    return PatientState() if raw is None else PatientState.from_json(json.loads(raw))


async def _save_many(conn: Conn, states: dict[str, PatientState]) -> None:
    if not states:
        return
    await conn.execute(
        "INSERT INTO patients (patient_id, state) SELECT patient_id, state::jsonb "
        "FROM unnest($1::text[], $2::text[]) AS s(patient_id, state) "
        "ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
        list(states),
        [json.dumps(state.to_json()) for state in states.values()],
    )


async def arm_reminder(conn: Conn, patient_id: str, course_id: str, fire_on: date) -> None:
    """A fresh reminder: earlier failures of one for the same course are forgotten."""
    await conn.execute(
        "INSERT INTO reminders (patient_id, course_id, fire_on) VALUES ($1, $2, $3) "
        "ON CONFLICT (patient_id, course_id) DO UPDATE SET fire_on = EXCLUDED.fire_on, "
        "attempts = 0, retry_at = NULL, set_aside_at = NULL",
        patient_id,
        course_id,
        fire_on,
    )


async def clear_reminder(conn: Conn, key: ReminderKey) -> None:
    await conn.execute(
        "DELETE FROM reminders WHERE patient_id = $1 AND course_id = $2", key[0], key[1]
    )
