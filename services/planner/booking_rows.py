"""The planner's bookings seen as the capacity core's `Bookings` of one clinic.

A booking is kept in local wall-clock minutes by the core and as instants by the database,
and a session id is unique only within its patient: the core, which indexes a clinic's
bookings by session, knows each by its `session_key` (patient and session id). Sessions are
read one row each from the `bookings` view and written a course and therapist a row into
`course_bookings` (migration 0010), whose exclusion constraint is R-NO-OVERLAP's last guard:
a row the core should never have produced is refused there, and the batch fails as for any
other bug.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.capacity.clock import MINUTES_PER_DAY, minute_of_day
from services.runtime.db import Conn

UTC_ZONE = ZoneInfo("UTC")

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
    again moves: its old booking is replaced)."""
    await rewrite(conn, (), [(clinic_id, b) for b in bookings], zone, turnover_min)


async def free(conn: Conn, keys: Sequence[str]) -> None:
    """Free the bookings of these `session_key`s."""
    await rewrite(conn, keys, (), UTC_ZONE, 0)


async def rewrite(
    conn: Conn,
    freed: Iterable[str],
    booked: Iterable[tuple[str, Booking]],
    zone: ZoneInfo,
    turnover_min: int,
) -> None:
    """Free the sessions `freed` (`session_key`s) and hold `booked`, each (clinic, booking)
    (a session booked again moves), of any clinics, in two statements.

    A row holds the sessions of one course that one therapist gives (migration 0010): every
    row of each patient named is taken out, and written back as it is now. The sessions
    left as they were keep the turnover they were booked under."""
    booked = list(booked)
    gone = {session_id_of(key) for key in freed}
    gone |= {session_id_of(b.owner.session_id) for _, b in booked}
    if not gone:
        return
    rows = await conn.fetch(
        "DELETE FROM course_bookings WHERE patient_id = ANY($1::text[]) "
        "RETURNING clinic_id, patient_id, course_id, therapist_id, turnover_min, "
        "session_ids, starts_at, ends_at",
        sorted({patient_id for patient_id, _ in gone}),
    )
    sessions = [
        (row["clinic_id"], row["patient_id"], row["course_id"], row["therapist_id"],
         row["turnover_min"], session_id, starts_at, ends_at)
        for row in rows
        for session_id, starts_at, ends_at in zip(
            row["session_ids"], row["starts_at"], row["ends_at"], strict=True
        )
        if (row["patient_id"], session_id) not in gone
    ]  # fmt: skip
    for clinic_id, b in booked:
        starts_at, ends_at = instants(b, zone)
        patient_id, session_id = session_id_of(b.owner.session_id)
        sessions.append((clinic_id, patient_id, b.owner.course_id, b.therapist_id,
                         turnover_min, session_id, starts_at, ends_at))  # fmt: skip
    if sessions:
        await _insert(conn, sessions)


async def _insert(conn: Conn, sessions: Sequence[tuple[Any, ...]]) -> None:
    """Each (clinic, patient, course, therapist, turnover, session, start, end) into its
    course's row, in order of start."""
    columns = list(zip(*sorted(sessions), strict=True))
    await conn.execute(
        "INSERT INTO course_bookings (clinic_id, patient_id, course_id, therapist_id, "
        "turnover_min, session_ids, starts_at, ends_at) "
        "SELECT k, p, c, t, n, array_agg(s ORDER BY st, s), array_agg(st ORDER BY st, s), "
        "array_agg(en ORDER BY st, s) "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], "
        "$7::timestamptz[], $8::timestamptz[]) AS r(k, p, c, t, n, s, st, en) "
        "GROUP BY k, p, c, t, n",
        *(list(column) for column in columns),
    )
