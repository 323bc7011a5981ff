"""GET /calendars/<token>.ics: a course's or a therapist's feed, for whoever holds its URL.

Without a live token every request gets the same 404, byte for byte: a malformed path, an
unknown token and a revoked one are indistinguishable, so a response says nothing about
whether a feed exists, nor of which kind. Other methods get 405 whatever the path.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import asyncpg
from faststream.asgi import AsgiResponse

from services.planner.feeds.course import course_sessions
from services.planner.feeds.feed import feed_calendar
from services.planner.feeds.store import (
    CourseFeed,
    Feed,
    PatientRow,
    TherapistFeed,
    booked_sessions,
    live_feed,
    patient_rows,
)
from services.planner.feeds.therapist import therapist_sessions
from services.planner.feeds.tokens import token_in
from services.planner.state import PatientState
from services.runtime.db import Conn

if TYPE_CHECKING:
    from faststream.asgi.types import ASGIApp, Receive, Scope, Send

_TEXT = {"content-type": "text/plain; charset=utf-8", "cache-control": "no-store"}
NOT_FOUND = AsgiResponse(b"Not Found\n", 404, _TEXT)
_NOT_ALLOWED = AsgiResponse(b"Method Not Allowed\n", 405, {**_TEXT, "allow": "GET"})
_UNAVAILABLE = AsgiResponse(b"Service Unavailable\n", 503, _TEXT)
_CALENDAR = {"content-type": "text/calendar; charset=utf-8", "cache-control": "no-store"}


def calendar_feeds(pool: Callable[[], asyncpg.Pool], schema: str, timezone: str) -> "ASGIApp":
    """`pool` gives the service's pool once it is started (RuntimeError before)."""

    async def app(scope: "Scope", receive: "Receive", send: "Send") -> None:
        response = await _answer(scope, pool, schema, timezone)
        await response(scope, receive, send)

    return app


async def _answer(
    scope: "Scope", pool: Callable[[], asyncpg.Pool], schema: str, timezone: str
) -> AsgiResponse:
    if scope["method"] != "GET":
        return _NOT_ALLOWED
    token = token_in(scope["path"])
    if token is None:
        return NOT_FOUND
    try:
        async with pool().acquire() as conn:
            feed = await live_feed(conn, schema, token)
            body = None if feed is None else await _calendar(conn, schema, feed, timezone)
    except (RuntimeError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return _UNAVAILABLE
    if body is None:
        return NOT_FOUND
    return AsgiResponse(body, 200, _CALENDAR)


async def _calendar(conn: Conn, schema: str, feed: Feed, timezone: str) -> bytes:
    zone = ZoneInfo(timezone)
    # One snapshot: a therapist's bookings and their patients' rows as one commit left them.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        match feed:
            case CourseFeed(patient_id=patient_id, course_id=course_id):
                rows = await patient_rows(conn, schema, [patient_id])
                sessions = course_sessions(_states(rows).get(patient_id, PatientState()),
                                           patient_id, course_id, zone)  # fmt: skip
                name = f"courseflow: patient {patient_id}, course {course_id}"
            case TherapistFeed(clinic_id=clinic_id, therapist_id=therapist_id):
                booked = await booked_sessions(conn, schema, feed)
                rows = await patient_rows(conn, schema, sorted({b.patient_id for b in booked}))
                sessions = therapist_sessions(booked, _states(rows), zone)
                name = f"courseflow: therapist {therapist_id}, clinic {clinic_id}"
    return feed_calendar(sessions, name=name, timezone=timezone, stamp=_stamp(rows))


def _states(rows: Mapping[str, PatientRow]) -> dict[str, PatientState]:
    return {patient_id: PatientState.from_json_text(row.state) for patient_id, row in rows.items()}


def _stamp(rows: Mapping[str, PatientRow]) -> datetime:
    """When the feed's information was last revised (RFC 5545 DTSTAMP): the latest change of
    its patients' rows, so the same plans give the same bytes at every refresh."""
    return max((row.updated_at for row in rows.values()), default=None) or datetime.now(UTC)
