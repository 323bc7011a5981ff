"""The planner's `clinics` rows: each clinic's staff facts, under its clinic lock."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from services.planner.booking_rows import held, loaded_since
from services.planner.capacity.roster import StaffFact
from services.planner.clinic import ClinicSessions, ClinicState, StaffOutput
from services.runtime.db import Conn
from services.runtime.decider import Decided


@dataclass(frozen=True)
class ClinicRepository:
    """`load_shared`: the clinics' bookings and patients, under the clinic locks the batch
    holds. The patients' rows are only read, never locked: a transaction holding a clinic
    lock never waits for a patient's (lock order: `services.runtime.pipeline`); what they
    show may be a moment old, and the commands they lead to are decided under the patients'
    own locks."""

    zone: ZoneInfo = ZoneInfo("UTC")  # noqa: RUF009 - immutable, like a constant
    today: Callable[[], date] | None = None  # as `PlannerRepository.today`

    async def load_shared(
        self,
        conn: Conn,
        keys: Sequence[str],
        _states: Mapping[str, ClinicState],
        _events: Sequence[Any],
        /,
    ) -> dict[str, ClinicSessions]:
        since = loaded_since(self.today)
        to_place = await courses_to_place(conn, keys)
        return {
            clinic_id: ClinicSessions(
                await held(conn, clinic_id, self.zone, since), to_place.get(clinic_id, ())
            )
            for clinic_id in keys
        }

    async def load_many(self, conn: Conn, keys: Sequence[str]) -> dict[str, ClinicState]:
        rows = await conn.fetch(
            "SELECT clinic_id, roster::text FROM clinics WHERE clinic_id = ANY($1::text[])",
            list(keys),
        )
        states = {key: ClinicState() for key in keys}
        states |= {row["clinic_id"]: ClinicState.from_json_text(row["roster"]) for row in rows}
        return states

    async def save_many(
        self,
        conn: Conn,
        states: Mapping[str, ClinicState],
        _decided: Sequence[Decided[StaffFact, ClinicState, StaffOutput]],
        /,
    ) -> None:
        if states:
            await conn.execute(
                "INSERT INTO clinics (clinic_id, roster) SELECT clinic_id, roster::jsonb "
                "FROM unnest($1::text[], $2::text[]) AS s(clinic_id, roster) "
                "ON CONFLICT (clinic_id) DO UPDATE SET roster = EXCLUDED.roster, "
                "updated_at = now()",
                list(states),
                [state.to_json_text() for state in states.values()],
            )


async def courses_to_place(
    conn: Conn, clinic_ids: Sequence[str]
) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Per clinic, (patient_id, course_ids) of its patients with courses more capacity could
    place (`PatientState.courses_to_place`), by patient id; read without the patients' locks."""
    rows = await conn.fetch(
        "SELECT clinic_id, patient_id, courses_to_place FROM patients "
        "WHERE clinic_id = ANY($1::text[]) AND courses_to_place <> '{}' "
        "ORDER BY clinic_id, patient_id",
        list(clinic_ids),
    )
    to_place: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for row in rows:
        to_place.setdefault(row["clinic_id"], []).append(
            (row["patient_id"], tuple(row["courses_to_place"]))
        )
    return {clinic_id: tuple(patients) for clinic_id, patients in to_place.items()}
