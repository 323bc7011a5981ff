"""`courseflow therapist <id>`: a therapist's days, each with the roster's hours, an absence,
the sessions booked and the free time left.

An operator's read-only view of the planner's `clinics` table and `bookings` view with the
operators' database URL, as `courseflow patient` reads them. The free time is the capacity
core's (`free_time`): the hours the therapist works that day less each booking with the
turnover around it, so a free span of d minutes holds exactly the sessions of d minutes the
planner could still book there. Times are the clinic's local wall clock.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from services.planner.booking_rows import held, session_id_of
from services.planner.capacity.bookings import Booking, Bookings
from services.planner.capacity.free import free_time
from services.planner.capacity.roster import Roster, TherapistRoster
from services.planner.clinic import ClinicState
from services.runtime.db import checked_schema

PLANNER_SCHEMA = "planner"
MAX_DAYS = 92  # about a quarter: what a person reads day by day
ONE_DAY = timedelta(days=1)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # never the machine's locale


class TherapistRefusedError(Exception):
    """Why no days are shown; the message is for the operator."""


@dataclass(frozen=True, slots=True)
class TherapistQuery:
    therapist_id: str
    from_on: date
    days: int
    clinic_id: str | None = None  # needed when several clinics roster the therapist
    schema: str = PLANNER_SCHEMA


async def therapist_report(
    database_url: str, query: TherapistQuery, zone: ZoneInfo, turnover_min: int
) -> list[str]:
    search_path = {"search_path": checked_schema(query.schema)}
    conn = await asyncpg.connect(database_url, server_settings=search_path)
    try:
        async with conn.transaction(readonly=True):
            rosters = await rosters_of(conn, query.schema, query.therapist_id)
            clinic_id = chosen_clinic(query.therapist_id, query.clinic_id, sorted(rosters))
            # From the day before: a booking late that evening may reach the first day.
            bookings = await held(conn, clinic_id, zone, query.from_on - ONE_DAY)
    finally:
        await conn.close()
    therapist = rosters[clinic_id].therapist(query.therapist_id)
    assert therapist is not None, "a clinic rostering the therapist has them in its roster"
    header = (
        f"therapist {query.therapist_id}, clinic {clinic_id}: {query.days} days from "
        f"{query.from_on} ({zone.key} time, turnover {turnover_min} min)"
    )
    lines = [header]
    for n in range(query.days):
        lines += day_lines(therapist, bookings, query.from_on + timedelta(days=n), turnover_min)
    return lines


async def rosters_of(conn: asyncpg.Connection, schema: str, therapist_id: str) -> dict[str, Roster]:
    """The rosters of the clinics that ever rostered the therapist, by clinic id (also read
    by `courseflow calendar url therapist`)."""
    clinics = f'"{checked_schema(schema)}".clinics'
    if await conn.fetchval("SELECT to_regclass($1)", clinics) is None:
        return {}  # the planner has not made its tables yet: no clinic has a roster
    rostered = json.dumps([{"kind": "rostered", "therapist_id": therapist_id}])
    rows = await conn.fetch(
        f"SELECT clinic_id, roster::text FROM {clinics} WHERE roster @> $1::jsonb",  # noqa: S608
        rostered,
    )
    return {row["clinic_id"]: ClinicState.from_json_text(row["roster"]).roster for row in rows}


def chosen_clinic(therapist: str, clinic_id: str | None, clinics: Sequence[str]) -> str:
    """The clinic named, or the one clinic, of those that rostered the therapist (sorted)."""
    listed = ", ".join(clinics)
    if not clinics:
        raise TherapistRefusedError(f"unknown therapist {therapist}: no clinic rostered them")
    if clinic_id is not None:
        if clinic_id not in clinics:
            raise TherapistRefusedError(
                f"therapist {therapist} was never rostered in clinic {clinic_id} "
                f"(rostered in: {listed})"
            )
        return clinic_id
    if len(clinics) > 1:
        raise TherapistRefusedError(
            f"therapist {therapist} is rostered in several clinics: {listed}; "
            "choose one with --clinic"
        )
    return clinics[0]


def day_lines(
    therapist: TherapistRoster, bookings: Bookings, day: date, turnover_min: int
) -> list[str]:
    """One day: what the roster says of it, each session booked, and the free time."""
    lines = [f"{WEEKDAYS[day.weekday()]} {day.isoformat()}  {roster_of_day(therapist, day)}"]
    lines += [f"  {session_line(booking)}" for booking in bookings.on(therapist.therapist_id, day)]
    working = therapist.stretches_on(day)
    if working:
        busy = (b.span_from(day) for b in bookings.near(therapist.therapist_id, day))
        free = free_time(working, busy, turnover_min)
        lines.append(f"  free {', '.join(span(s.first, s.last) for s in free) or 'none'}")
    return lines


def roster_of_day(therapist: TherapistRoster, day: date) -> str:
    hours = ", ".join(span(s.start_min, s.end_min) for s in therapist.rostered_on(day))
    if therapist.left is not None and day > therapist.left.last_day:
        return f"left (last day {therapist.left.last_day.isoformat()})"
    absence = therapist.absence_on(day)
    if absence is not None:
        rostered = f" (hours {hours})" if hours else ""
        return f"absent {absence.from_on.isoformat()} to {absence.to_on.isoformat()}{rostered}"
    if hours:
        return f"hours {hours}"
    first = min((h.effective_from for h in therapist.hours), default=None)
    if first is not None and day < first:
        return f"not rostered yet (hours from {first.isoformat()})"
    return "no hours"


def session_line(booking: Booking) -> str:
    _, session_id = session_id_of(booking.owner.session_id)
    return (
        f"{span(booking.start_min, booking.end_min)}  patient {booking.owner.patient_id}  "
        f"course {booking.owner.course_id}  session {session_id}"
    )


def span(start_min: int, end_min: int) -> str:
    return f"{_clock(start_min)}-{_clock(end_min)}"


def _clock(minute: int) -> str:
    """HH:MM of local minutes; 24:00 is the end of a day worked until midnight."""
    hours, minutes = divmod(minute, 60)
    return f"{hours:02d}:{minutes:02d}"
