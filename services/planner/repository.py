"""The planner schema: one row per patient (the core's state as jsonb), next-course reminders."""

from collections.abc import Mapping, Sequence
from datetime import date

from services.planner.commands import Command
from services.planner.decider import Timed
from services.planner.outputs import ArmReminder
from services.planner.state import PatientState
from services.runtime.db import Conn, states_by_key
from services.runtime.decider import Decided
from services.runtime.timers import TimerTable

ReminderKey = tuple[str, str]  # (patient_id, course_id)
REMINDERS = TimerTable(
    "planner.next-course-reminder", "reminders", ("patient_id", "course_id"), "fire_on"
)


class PlannerRepository:
    """Rows of the patients a batch holds the locks of (`services.runtime.locks`)."""

    async def load_many(self, conn: Conn, keys: Sequence[str]) -> dict[str, PatientState]:
        return await states_by_key(
            conn,
            "SELECT patient_id, state::text FROM patients WHERE patient_id = ANY($1::text[])",
            keys, PatientState(), lambda row: _state(row["state"]),
        )  # fmt: skip

    async def save_many(
        self,
        conn: Conn,
        states: Mapping[str, PatientState],
        decided: Sequence[Decided[Command, PatientState, Timed]],
    ) -> None:
        reminders, reminded = _reminders(decided)
        # A reminder refers to its patient's row, which must exist even if the state did not
        # change (it always does today: a reminder comes with a course's completion).
        rows = {**reminded, **states}
        if rows:
            await conn.execute(
                "INSERT INTO patients (patient_id, state) SELECT patient_id, state::jsonb "
                "FROM unnest($1::text[], $2::text[]) AS s(patient_id, state) "
                "ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                list(rows),
                [state.to_json_text() for state in rows.values()],
            )
        if reminders:
            await _arm(conn, reminders)


def _state(raw: str | None) -> PatientState:
    return PatientState() if raw is None else PatientState.from_json_text(raw)


def _reminders(
    decided: Sequence[Decided[Command, PatientState, Timed]],
) -> tuple[dict[ReminderKey, date], dict[str, PatientState]]:
    """The last day armed for each course, and the state of each patient that has one."""
    reminders: dict[ReminderKey, date] = {}
    reminded: dict[str, PatientState] = {}
    for one in decided:
        for timed in one.outputs:
            if isinstance(timed.output, ArmReminder):
                reminders[(one.key, timed.output.course_id)] = timed.output.fire_on
                reminded[one.key] = one.state
    return reminders, reminded


async def _arm(conn: Conn, reminders: Mapping[ReminderKey, date]) -> None:
    """Fresh reminders: earlier failures of one for the same course are forgotten."""
    armed = sorted(reminders.items())
    await conn.execute(
        "INSERT INTO reminders (patient_id, course_id, fire_on) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::date[]) "
        "ON CONFLICT (patient_id, course_id) DO UPDATE SET fire_on = EXCLUDED.fire_on, "
        "attempts = 0, retry_at = NULL, set_aside_at = NULL",
        [patient_id for (patient_id, _), _ in armed],
        [course_id for (_, course_id), _ in armed],
        [fire_on for _, fire_on in armed],
    )
