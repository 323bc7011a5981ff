"""`courseflow calendar url|revoke course <patient> <course>`: a course feed's secret URL.

Operators hand the URL to whoever should see the course in their calendar. It is made once
and printed again on request while it is live; revoking it makes it answer 404 at once, and
the next `url` makes a new one. The command works in the planner's schema with the
operators' database URL, as `courseflow patient` reads it.
"""

from dataclasses import dataclass

import asyncpg

from services.planner.feeds.store import (
    UrlKeyChangedError,
    course_feed_token,
    revoke_course_feed,
)
from services.planner.feeds.tokens import feed_path
from services.planner.state import PatientState
from services.runtime.db import checked_schema

PLANNER_SCHEMA = "planner"
NOT_MIGRATED = "the planner has not created its tables yet: start it once (it migrates)"


class FeedRefusedError(Exception):
    """Why no URL is printed; the message is for the operator."""


@dataclass(frozen=True, slots=True)
class CourseFeed:
    patient_id: str
    course_id: str
    schema: str = PLANNER_SCHEMA


async def course_feed_url(database_url: str, feed: CourseFeed, key: str, base_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        await _known_course(conn, feed)
        token = await course_feed_token(conn, feed.schema, feed.patient_id, feed.course_id, key)
    except asyncpg.UndefinedTableError:
        raise FeedRefusedError(NOT_MIGRATED) from None
    except UrlKeyChangedError as exc:
        raise FeedRefusedError(str(exc)) from None
    finally:
        await conn.close()
    return f"{base_url}{feed_path(token)}"


async def revoke_course_feed_url(database_url: str, feed: CourseFeed) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        return await _revoked(conn, feed)
    finally:
        await conn.close()


async def _revoked(conn: asyncpg.Connection, feed: CourseFeed) -> bool:
    try:
        return await revoke_course_feed(conn, feed.schema, feed.patient_id, feed.course_id)
    except asyncpg.UndefinedTableError:
        return False  # the planner has not made its feeds table yet: no URL was ever made


async def _known_course(conn: asyncpg.Connection, feed: CourseFeed) -> None:
    """A URL only for a course the planner knows (a typo must not make a feed)."""
    raw = await conn.fetchval(
        f'SELECT state::text FROM "{checked_schema(feed.schema)}".patients '  # noqa: S608
        "WHERE patient_id = $1",
        feed.patient_id,
    )
    state = PatientState() if raw is None else PatientState.from_json_text(raw)
    prescribed = any(p.course_id == feed.course_id for p in state.prescriptions)
    if not prescribed and state.published_course(feed.course_id) is None:
        raise FeedRefusedError(
            f"the planner knows no course {feed.course_id} of patient {feed.patient_id}"
        )
