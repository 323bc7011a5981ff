"""The planner's `clinics` rows: each clinic's staff facts, under its clinic lock."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from services.planner.booking_rows import held
from services.planner.capacity.bookings import Bookings
from services.planner.capacity.roster import StaffFact
from services.planner.clinic import ClinicState, StaffOutput
from services.runtime.db import Conn
from services.runtime.decider import Decided


@dataclass(frozen=True)
class ClinicRepository:
    """`load_shared`: the clinics' bookings, under the clinic locks the batch holds."""

    zone: ZoneInfo = ZoneInfo("UTC")  # noqa: RUF009 - immutable, like a constant

    async def load_shared(
        self,
        conn: Conn,
        keys: Sequence[str],
        _states: Mapping[str, ClinicState],
        _events: Sequence[Any],
        /,
    ) -> dict[str, Bookings]:
        return {clinic_id: await held(conn, clinic_id, self.zone) for clinic_id in keys}

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
