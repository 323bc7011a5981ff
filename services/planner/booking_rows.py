"""The `bookings` table seen as the capacity core's `Bookings` of one clinic.

A booking is kept in local wall-clock minutes by the core and as instants by the database,
and a session id is unique only within its patient: the core, which indexes a clinic's
bookings by session, knows each by its `session_key` (patient and session id).
whose exclusion constraint (migration 0004) is R-NO-OVERLAP's last guard: a row the core
should never have produced is refused there, and the batch fails as for any other bug.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.capacity.clock import MINUTES_PER_DAY, minute_of_day
from services.runtime.db import Conn

# Identifiers never hold control characters (CONTRACT.md), so the key is unambiguous.
SEPARATOR = "\x1f"


def session_key(patient_id: str, session_id: str) -> str:
    return f"{patient_id}{SEPARATOR}{session_id}"


def session_id_of(key: str) -> tuple[str, str]:
    """(patient_id, session_id) of a `session_key`."""
    patient_id, session_id = key.split(SEPARATOR, 1)
    return patient_id, session_id


def instants(booking: Booking, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The booking's start and end as instants; wall-clock arithmetic in the clinic's zone."""
    midnight = datetime.combine(booking.on, time(0), tzinfo=zone)
    start = midnight + timedelta(minutes=booking.start_min)
    end = midnight + timedelta(minutes=booking.end_min)
    return start, end


def booking_of(owner: Owner, therapist_id: str, starts_at: datetime, ends_at: datetime,
               zone: ZoneInfo) -> Booking:  # fmt: skip
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end_min = MINUTES_PER_DAY if end.date() > start.date() else minute_of_day(end.time())
    return Booking(therapist_id, start.date(), minute_of_day(start.time()), end_min, owner)


def loaded_since(today: Callable[[], date] | None) -> date | None:
    """The first day whose bookings are loaded: the clinic-local yesterday. The Decider places
    nothing before its context's yesterday (`PlannerDecider._staffing`), and the context is
    taken after this, so no placement can clash with a booking left unloaded."""
    return None if today is None else today() - timedelta(days=1)


async def held(conn: Conn, clinic_id: str, zone: ZoneInfo, from_on: date | None = None) -> Bookings:
    """The clinic's bookings, from the local day `from_on` on when given."""
    since = None if from_on is None else datetime.combine(from_on, time(0), tzinfo=zone)
    rows = await conn.fetch(
        "SELECT therapist_id, patient_id, course_id, session_id, starts_at, ends_at "
        "FROM bookings WHERE clinic_id = $1 AND ($2::timestamptz IS NULL OR starts_at >= $2) "
        "ORDER BY starts_at, session_id",
        clinic_id,
        since,
    )
    return Bookings.of(_booking(row, zone) for row in rows)


def _booking(row: Any, zone: ZoneInfo) -> Booking:
    key = session_key(row["patient_id"], row["session_id"])
    owner = Owner(row["patient_id"], row["course_id"], key)
    return booking_of(owner, row["therapist_id"], row["starts_at"], row["ends_at"], zone)


async def book(
    conn: Conn, clinic_id: str, bookings: Iterable[Booking], zone: ZoneInfo, turnover_min: int
) -> None:
    """Hold `bookings`, whose owners' session ids are `session_key`s (a session booked
    again moves: its old row is replaced)."""
    rows = list(bookings)
    await free(conn, [b.owner.session_id for b in rows])
    await insert(conn, [(clinic_id, b) for b in rows], zone, turnover_min)


async def insert(
    conn: Conn, bookings: Iterable[tuple[str, Booking]], zone: ZoneInfo, turnover_min: int
) -> None:
    """`book` for sessions that hold no row (freed already), each (clinic, booking), of any
    clinics in one statement."""
    rows = sorted(bookings, key=lambda row: (row[0], row[1].owner.session_id))
    if not rows:
        return
    spans = [instants(b, zone) for _, b in rows]
    await conn.execute(
        "INSERT INTO bookings (session_id, therapist_id, clinic_id, patient_id, course_id, "
        "starts_at, ends_at, turnover_min) "
        "SELECT s, t, k, p, c, st, en, $8 FROM unnest($1::text[], $2::text[], $3::text[], "
        "$4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[]) "
        "AS r(s, t, k, p, c, st, en)",
        [session_id_of(b.owner.session_id)[1] for _, b in rows],
        [b.therapist_id for _, b in rows],
        [clinic_id for clinic_id, _ in rows],
        [b.owner.patient_id for _, b in rows],
        [b.owner.course_id for _, b in rows],
        [start for start, _ in spans],
        [end for _, end in spans],
        turnover_min,
    )


async def free(conn: Conn, keys: Sequence[str]) -> None:
    """Free the bookings of these `session_key`s."""
    pairs = sorted({session_id_of(key) for key in keys})
    if pairs:
        await conn.execute(
            "DELETE FROM bookings b USING unnest($1::text[], $2::text[]) AS f(p, s) "
            "WHERE b.patient_id = f.p AND b.session_id = f.s",
            [patient for patient, _ in pairs],
            [session for _, session in pairs],
        )
