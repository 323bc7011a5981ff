"""GET /calendars/<token>.ics: a course's feed, for whoever holds its URL.

Without a live token every request gets the same 404, byte for byte: a malformed path, an
unknown token and a revoked one are indistinguishable, so a response says nothing about
whether a feed exists. Other methods get 405 whatever the path.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
from faststream.asgi import AsgiResponse

from services.planner.feeds.course import course_sessions, feed_calendar
from services.planner.feeds.store import FoundFeed, live_feed
from services.planner.feeds.tokens import token_in
from services.planner.state import PatientState

if TYPE_CHECKING:
    from faststream.asgi.types import ASGIApp, Receive, Scope, Send

_TEXT = {"content-type": "text/plain; charset=utf-8", "cache-control": "no-store"}
NOT_FOUND = AsgiResponse(b"Not Found\n", 404, _TEXT)
_NOT_ALLOWED = AsgiResponse(b"Method Not Allowed\n", 405, {**_TEXT, "allow": "GET"})
_UNAVAILABLE = AsgiResponse(b"Service Unavailable\n", 503, _TEXT)
_CALENDAR = {"content-type": "text/calendar; charset=utf-8", "cache-control": "no-store"}


def course_feeds(pool: Callable[[], asyncpg.Pool], schema: str, timezone: str) -> "ASGIApp":
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
    except (RuntimeError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return _UNAVAILABLE
    if feed is None:
        return NOT_FOUND
    return AsgiResponse(_calendar(feed, timezone), 200, _CALENDAR)


def _calendar(feed: FoundFeed, timezone: str) -> bytes:
    state = PatientState() if feed.state is None else PatientState.from_json_text(feed.state)
    sessions = course_sessions(state, feed.patient_id, feed.course_id)
    # The row's last change is when this information was last revised (RFC 5545 DTSTAMP),
    # so the same plan gives the same bytes at every refresh.
    stamp = feed.updated_at or datetime.now(UTC)
    name = f"courseflow: patient {feed.patient_id}, course {feed.course_id}"
    return feed_calendar(sessions, name=name, timezone=timezone, stamp=stamp)
