"""`courseflow calendar url|revoke course <patient> <course>` and `... therapist <id>
[--clinic C]`: a feed's secret URL.

Operators hand the URL to whoever should see the course or the therapist's sessions in their
calendar. It is made once and printed again on request while it is live; revoking it makes
it answer 404 at once, and the next `url` makes a new one. The command works in the
planner's schema with the operators' database URL, as `courseflow patient` reads it.
"""

from dataclasses import dataclass

import asyncpg

from services.ops.therapist import chosen_clinic, rosters_of
from services.planner.feeds.store import (
    CourseFeed,
    Feed,
    TherapistFeed,
    UrlKeyChangedError,
    live_token,
    revoke,
)
from services.planner.feeds.tokens import feed_path
from services.planner.state import PatientState
from services.runtime.db import checked_schema

PLANNER_SCHEMA = "planner"
NOT_MIGRATED = "the planner has not created its tables yet: start it once (it migrates)"


class FeedRefusedError(Exception):
    """Why no URL is printed; the message is for the operator."""


@dataclass(frozen=True, slots=True)
class TherapistAsked:
    """A therapist as the operator names one: the clinic may be left out when the
    therapist is rostered in one clinic only."""

    therapist_id: str
    clinic_id: str | None = None


Asked = CourseFeed | TherapistAsked


async def feed_url(
    database_url: str, asked: Asked, key: str, base_url: str, schema: str = PLANNER_SCHEMA
) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        feed = await _known_feed(conn, schema, asked)
        token = await live_token(conn, schema, feed, key)
    except asyncpg.UndefinedTableError:
        raise FeedRefusedError(NOT_MIGRATED) from None
    except UrlKeyChangedError as exc:
        raise FeedRefusedError(str(exc)) from None
    finally:
        await conn.close()
    return f"{base_url}{feed_path(token)}"


async def revoke_feed_url(database_url: str, asked: Asked, schema: str = PLANNER_SCHEMA) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        feed = asked if isinstance(asked, CourseFeed) else await _therapist(conn, schema, asked)
        return await revoke(conn, schema, feed)
    except asyncpg.UndefinedTableError:
        return False  # the planner has not made its tables yet: no URL was ever made
    finally:
        await conn.close()


async def _known_feed(conn: asyncpg.Connection, schema: str, asked: Asked) -> Feed:
    """A URL only for a course or therapist the planner knows (a typo must not make a feed)."""
    if isinstance(asked, TherapistAsked):
        return await _therapist(conn, schema, asked)
    raw = await conn.fetchval(
        f'SELECT state::text FROM "{checked_schema(schema)}".patients '  # noqa: S608
        "WHERE patient_id = $1",
        asked.patient_id,
    )
    state = PatientState() if raw is None else PatientState.from_json_text(raw)
    prescribed = any(p.course_id == asked.course_id for p in state.prescriptions)
    if not prescribed and state.published_course(asked.course_id) is None:
        raise FeedRefusedError(
            f"the planner knows no course {asked.course_id} of patient {asked.patient_id}"
        )
    return asked


async def _therapist(conn: asyncpg.Connection, schema: str, asked: TherapistAsked) -> TherapistFeed:
    """The therapist's feed in the clinic named, or in the one clinic that rosters them."""
    clinics = sorted(await rosters_of(conn, schema, asked.therapist_id))
    return TherapistFeed(
        chosen_clinic(asked.therapist_id, asked.clinic_id, clinics), asked.therapist_id
    )
