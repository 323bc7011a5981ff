"""The planner schema: one row per patient (the core's state as jsonb), next-course reminders."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from schemas.clinic import PatientEnrolled
from services.planner.booking_rows import SEPARATOR, held, loaded_since, rewrite
from services.planner.capacity.bookings import Booking, Bookings
from services.planner.capacity.policy import DEFAULT_CAPACITY_POLICY
from services.planner.clinic_repository import ClinicRepository, courses_to_place
from services.planner.decider import Timed
from services.planner.outputs import ArmReminder
from services.planner.staffing import BookingsChanged, ClinicCapacity
from services.planner.state import PatientState
from services.runtime.db import Conn, states_by_key
from services.runtime.decider import Decided
from services.runtime.locks import LockNamespace
from services.runtime.timers import TimerTable

UTC_ZONE = ZoneInfo("UTC")
ReminderKey = tuple[str, str]  # (patient_id, course_id)
# Each session a batch booked or freed: its clinic, and its booking as the batch left it.
Written = Mapping[str, tuple[str, Booking | None]]
REMINDERS = TimerTable(
    "planner.next-course-reminder", "reminders", ("patient_id", "course_id"), "fire_on"
)


@dataclass(frozen=True)
class PlannerRepository:
    """Rows of the patients a batch holds the locks of (`services.runtime.locks`), and the
    rosters and bookings of their clinics under the clinics' locks."""

    schema: str = "planner"  # the clinic locks' names are the staff pipeline's: schema:clinic
    zone: ZoneInfo = UTC_ZONE
    turnover_min: int = DEFAULT_CAPACITY_POLICY.turnover_min
    # The clinic-local day (the Decider's `Context.today`); None: every booking is loaded.
    today: Callable[[], date] | None = None
    # A clinic's bookings as the last batch holding its lock read or wrote them, under the
    # token of `booking_versions` (migration 0008) they stand for. Only a batch holding the
    # clinic's lock exclusively reads or replaces its entry, so batches never share one.
    _kept: dict[str, "_Kept"] = field(default_factory=dict, compare=False, repr=False)

    async def load_shared(
        self,
        conn: Conn,
        _keys: Sequence[str],
        states: Mapping[str, PatientState],
        events: Sequence[Any],
        /,
    ) -> dict[str, ClinicCapacity] | None:
        """The clinics with a roster among the patients' (an enrolment in the batch names a
        new patient's); None when there is none, and the patients keep date-only plans."""
        clinic_ids = {state.clinic_id for state in states.values()}
        clinic_ids |= {e.data.clinic_id for e in events if isinstance(e, PatientEnrolled)}
        clinic_ids.discard("")
        staffed = await self._staffed(conn, clinic_ids)
        # After the batch's patient locks (`Pipeline._batch`), never before: see there. A
        # clinic with staff facts is locked exclusively (its bookings are written); one
        # without is locked shared, so batches of its patients still run side by side, but
        # never past a first roster: the roster's batch (which holds its clinic's lock
        # exclusively) either waits for this one, then sees its courses to place
        # (`ClinicRepository.load_shared`), or commits first, and then this batch, which
        # read no roster, is tried again (nothing was decided yet) to see it.
        await _lock_clinics(conn, self.schema, staffed, clinic_ids - staffed)
        if await self._staffed(conn, clinic_ids - staffed):
            raise RosterArrivedError("a first roster arrived while the batch was read")
        if not staffed:
            return None
        ids = sorted(staffed)
        clinics = await ClinicRepository().load_many(conn, ids)
        since = loaded_since(self.today)
        rostered = [clinic_id for clinic_id, c in clinics.items() if not c.roster.is_empty]
        bookings = await self._bookings(conn, rostered, since)
        waiting = await courses_to_place(conn, rostered) if rostered else {}
        capacity = {
            clinic_id: ClinicCapacity(
                clinics[clinic_id].roster, bookings[clinic_id], waiting.get(clinic_id, ())
            )
            for clinic_id in rostered
        }
        return capacity or None

    async def _bookings(
        self, conn: Conn, clinic_ids: Sequence[str], since: date | None
    ) -> dict[str, Bookings]:
        """The clinics' bookings: kept ones whose token is still the table's, others read."""
        if not clinic_ids:
            return {}
        rows = await conn.fetch(
            "SELECT clinic_id, token::text FROM booking_versions WHERE clinic_id = ANY($1::text[])",
            list(clinic_ids),
        )
        tokens: dict[str, str | None] = dict.fromkeys(clinic_ids)
        tokens |= {row["clinic_id"]: row["token"] for row in rows}
        bookings = {}
        for clinic_id, token in tokens.items():
            kept = self._kept.get(clinic_id)
            if kept is None or kept.token != token or kept.since != since:
                kept = _Kept(token, since, await held(conn, clinic_id, self.zone, since))
                self._kept[clinic_id] = kept
            bookings[clinic_id] = kept.bookings
        return bookings

    @staticmethod
    async def _staffed(conn: Conn, clinic_ids: set[str]) -> set[str]:
        """The clinics that have staff facts (a `clinics` row) among `clinic_ids`."""
        if not clinic_ids:
            return set()
        rows = await conn.fetch(
            "SELECT clinic_id FROM clinics WHERE clinic_id = ANY($1::text[])", list(clinic_ids)
        )
        return {row["clinic_id"] for row in rows}

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
        decided: Sequence[Decided[Any, PatientState, Timed]],
    ) -> None:
        reminders, reminded = _reminders(decided)
        # A reminder refers to its patient's row, which must exist even if the state did not
        # change (it always does today: a reminder comes with a course's completion).
        rows = {**reminded, **states}
        if rows:
            # The clinic and the courses to place are kept beside the state for the clinic's
            # batch (migration 0007); identifiers hold no control character (CONTRACT.md).
            await conn.execute(
                "INSERT INTO patients (patient_id, state, clinic_id, courses_to_place) "
                "SELECT patient_id, state::json, NULLIF(clinic_id, ''), "
                "string_to_array(to_place, $4) "
                "FROM unnest($1::text[], $2::text[], $3::text[], $5::text[]) "
                "AS s(patient_id, state, clinic_id, to_place) "
                "ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, "
                "clinic_id = EXCLUDED.clinic_id, courses_to_place = EXCLUDED.courses_to_place, "
                "updated_at = now()",
                list(rows),
                [state.to_json_text() for state in rows.values()],
                [state.clinic_id for state in rows.values()],
                SEPARATOR,
                [SEPARATOR.join(state.courses_to_place) for state in rows.values()],
            )
        if reminders:
            await _arm(conn, reminders)
        latest, last = _bookings_changed(decided)
        if latest:  # written by `write_ahead`
            await self._keep_written(conn, latest, last)

    async def write_ahead(
        self, conn: Conn, decided: Sequence[Decided[Any, PatientState, Timed]]
    ) -> None:
        """The bookings of `decided` as the last of them left them (`WritingAhead`): all freed
        first, so a slot one patient gave up may be taken by another in the same call."""
        latest, _ = _bookings_changed(decided)
        if latest:
            booked = [(clinic_id, b) for clinic_id, b in latest.values() if b is not None]
            await rewrite(conn, list(latest), booked, self.zone, self.turnover_min)

    async def _keep_written(
        self, conn: Conn, latest: Written, last: Mapping[str, BookingsChanged]
    ) -> None:
        """The written clinics' bookings kept as the batch left them (each session as its
        last decision left it: booked, or freed), under a token of their own set in this
        transaction: if it rolls back, the table keeps the token before, and the next batch
        reads the clinic again. A clinic's last change of the batch may carry them built
        (`BookingsChanged.after`: each decision began with the bookings the ones before it
        left, from those kept)."""
        clinic_ids = sorted({clinic_id for clinic_id, _ in latest.values()})
        tokens = {clinic_id: str(uuid.uuid4()) for clinic_id in clinic_ids}
        await conn.execute(
            "INSERT INTO booking_versions (clinic_id, token) "
            "SELECT * FROM unnest($1::text[], $2::uuid[]) "
            "ON CONFLICT (clinic_id) DO UPDATE SET token = EXCLUDED.token",
            list(tokens),
            list(tokens.values()),
        )
        for clinic_id, token in tokens.items():
            kept = self._kept.pop(clinic_id, None)
            if kept is None:  # not read by this batch (cannot happen: it wrote the clinic)
                continue
            bookings = last[clinic_id].after
            if bookings is None:
                touched = [(key, b) for key, (c, b) in latest.items() if c == clinic_id]
                booked = [b for _, b in touched if b is not None]
                bookings = kept.bookings.changed([key for key, _ in touched], booked)
            self._kept[clinic_id] = _Kept(token, kept.since, bookings)


@dataclass(frozen=True, slots=True)
class _Kept:
    token: str | None  # None: no booking of the clinic was ever written
    since: date | None
    bookings: Bookings


class RosterArrivedError(asyncpg.SerializationError):
    """Transient, as a serialization failure is (`services.runtime.retry`): the batch is
    tried again, and then sees the roster."""


async def _lock_clinics(conn: Conn, schema: str, exclusive: set[str], shared: set[str]) -> None:
    """The clinics' locks in one pass, in the one global order of `lock_keys`."""
    names = [f"{schema}:{c}" for c in sorted(exclusive)] + [f"{schema}:{c}" for c in sorted(shared)]
    if names:
        await conn.execute(
            "SELECT CASE WHEN x THEN pg_advisory_xact_lock($1::int4, h)::text "
            "ELSE pg_advisory_xact_lock_shared($1::int4, h)::text END FROM "
            "(SELECT hashtext(k) AS h, bool_or(x) AS x FROM unnest($2::text[], $3::bool[]) "
            "AS u(k, x) GROUP BY 1) AS keys ORDER BY h",
            int(LockNamespace.CLINIC),
            names,
            [True] * len(exclusive) + [False] * len(shared),
        )


def _bookings_changed(
    decided: Sequence[Decided[Any, PatientState, Timed]],
) -> tuple[Written, dict[str, BookingsChanged]]:
    """Each session `decided` booked or freed, as the last of them left it, and each
    clinic's last change."""
    latest: dict[str, tuple[str, Booking | None]] = {}
    last: dict[str, BookingsChanged] = {}
    for one in decided:
        for timed in one.outputs:
            if isinstance(timed.output, BookingsChanged):
                clinic_id = timed.output.clinic_id
                latest |= dict.fromkeys(timed.output.freed, (clinic_id, None))
                latest |= {b.owner.session_id: (clinic_id, b) for b in timed.output.booked}
                last[clinic_id] = timed.output
    return latest, last


def _state(raw: str | None) -> PatientState:
    return PatientState() if raw is None else PatientState.from_json_text(raw)


def _reminders(
    decided: Sequence[Decided[Any, PatientState, Timed]],
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
