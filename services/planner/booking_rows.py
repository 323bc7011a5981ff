"""The planner's bookings seen as the capacity core's `Bookings` of one clinic.

A booking is kept in local wall-clock minutes by the core and as instants by the database,
and a session id is unique only within its patient: the core, which indexes a clinic's
bookings by session, knows each by its `session_key` (patient and session id). Sessions are
read one row each from the `bookings` view and written a course and therapist a row into
`course_bookings` (migration 0010), whose exclusion constraint is R-NO-OVERLAP's last guard:
a row the core should never have produced is refused there, and the batch fails as for any
other bug.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.capacity.clock import (
    MINUTES_PER_DAY,
    epoch_second_at,
    minute_of_day,
)
from services.runtime.db import Conn

# Identifiers never hold control characters (CONTRACT.md), so the key is unambiguous.
SEPARATOR = "\x1f"


def session_key(patient_id: str, session_id: str) -> str:
    return f"{patient_id}{SEPARATOR}{session_id}"


def session_id_of(key: str) -> tuple[str, str]:
    """(patient_id, session_id) of a `session_key`."""
    patient_id, session_id = key.split(SEPARATOR, 1)
    return patient_id, session_id


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


async def rewrite(
    conn: Conn,
    freed: Iterable[str],
    booked: Iterable[tuple[str, Booking]],
    zone: ZoneInfo,
    turnover_min: int,
) -> None:
    """Free the sessions `freed` (`session_key`s) and hold `booked`, each (clinic, booking)
    (a session booked again moves), of any clinics, in one statement.

    A row holds the sessions of one course that one therapist gives (migration 0010): every
    row of each patient named is taken out and written back as it is now, in the database:
    the sessions left as they were never travel to the planner and back, and keep the
    turnover they were booked under. Every row is taken out before the first is written
    back (the INSERT's rows are aggregates of all of them), so none collides with itself."""
    rows = sorted(
        ((clinic_id, *session_id_of(b.owner.session_id), b) for clinic_id, b in booked),
        key=itemgetter(0, 1, 2),
    )
    written = sorted({session_id_of(key) for key in freed} | {(p, s) for _, p, s, _ in rows})
    if not written:
        return
    # Each column goes as one text, its values joined by SEPARATOR (no identifier holds it),
    # and the instants as whole epoch seconds: asyncpg checks every element of an array it
    # encodes, which cost as much as the statement's own work in the database.
    await conn.execute(
        "WITH gone AS ("
        " DELETE FROM course_bookings WHERE patient_id = ANY(string_to_array($1, $11))"
        " RETURNING clinic_id, patient_id, course_id, therapist_id, turnover_min, session_ids,"
        " starts_at, ends_at"
        "), kept AS ("
        " SELECT g.clinic_id AS k, g.patient_id AS p, g.course_id AS c, g.therapist_id AS t,"
        " g.turnover_min AS n, u.s, u.st, u.en"
        " FROM gone AS g, unnest(g.session_ids, g.starts_at, g.ends_at) AS u(s, st, en)"
        " WHERE NOT EXISTS (SELECT 1 FROM unnest(string_to_array($1, $11),"
        " string_to_array($2, $11)) AS w(p, s) WHERE w.p = g.patient_id AND w.s = u.s)"
        "), booked AS ("
        " SELECT k, p, c, t, $10::int AS n, s, to_timestamp(st) AS st, to_timestamp(en) AS en"
        " FROM unnest(string_to_array($3, $11), string_to_array($4, $11),"
        " string_to_array($5, $11), string_to_array($6, $11), string_to_array($7, $11),"
        " string_to_array($8, $11)::bigint[], string_to_array($9, $11)::bigint[])"
        " AS b(k, p, c, t, s, st, en)"
        ") "
        "INSERT INTO course_bookings (clinic_id, patient_id, course_id, therapist_id,"
        " turnover_min, session_ids, starts_at, ends_at) "
        "SELECT k, p, c, t, n, array_agg(s ORDER BY st, s), array_agg(st ORDER BY st, s),"
        " array_agg(en ORDER BY st, s) "
        "FROM (SELECT * FROM kept UNION ALL SELECT * FROM booked) AS a GROUP BY k, p, c, t, n",
        _joined(patient_id for patient_id, _ in written),
        _joined(session_id for _, session_id in written),
        _joined(clinic_id for clinic_id, _, _, _ in rows),
        _joined(patient_id for _, patient_id, _, _ in rows),
        _joined(b.owner.course_id for _, _, _, b in rows),
        _joined(b.therapist_id for _, _, _, b in rows),
        _joined(session_id for _, _, session_id, _ in rows),
        _joined(str(epoch_second_at(b.on, b.start_min, zone)) for _, _, _, b in rows),
        _joined(str(epoch_second_at(b.on, b.end_min, zone)) for _, _, _, b in rows),
        turnover_min,
        SEPARATOR,
    )


def _joined(values: Iterable[str]) -> str:
    return SEPARATOR.join(values)
