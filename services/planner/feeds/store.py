"""The `calendar_feeds` table: a course feed's URL made once, found by its token, revoked.

Every function names the planner's schema (the service's own name; a test run's differs),
so the operators' command and the service share the statements.
"""

from dataclasses import dataclass
from datetime import datetime

from services.planner.feeds.tokens import feed_token, new_nonce, token_digest
from services.runtime.db import Conn, checked_schema


class UrlKeyChangedError(Exception):
    """The live URL of a feed was made with another URL key: it cannot be printed again."""


@dataclass(frozen=True, slots=True)
class FoundFeed:
    """A live feed a token opens, with the planner's row of its patient (None: no row)."""

    patient_id: str
    course_id: str
    state: str | None
    updated_at: datetime | None


async def course_feed_token(
    conn: Conn, schema: str, patient_id: str, course_id: str, key: str
) -> str:
    """The token of the course's live feed, made now if it has none (at most one is live:
    two callers at once get the same one)."""
    table = _table(schema)
    nonce = new_nonce()
    await conn.execute(
        f"INSERT INTO {table} (token_sha256, nonce, kind, patient_id, course_id) "  # noqa: S608
        "VALUES ($1, $2, 'course', $3, $4) "
        "ON CONFLICT (kind, patient_id, course_id) WHERE revoked_at IS NULL DO NOTHING",
        token_digest(feed_token(key, nonce)), nonce, patient_id, course_id,
    )  # fmt: skip
    row = await conn.fetchrow(
        f"SELECT nonce, token_sha256 FROM {table} WHERE kind = 'course' "  # noqa: S608
        "AND patient_id = $1 AND course_id = $2 AND revoked_at IS NULL",
        patient_id, course_id,
    )  # fmt: skip
    assert row is not None, "a live feed was inserted or already there"
    token = feed_token(key, row["nonce"])
    if token_digest(token) != row["token_sha256"]:
        raise UrlKeyChangedError(
            "this feed's URL was made with another calendar URL key: revoke it for a new one"
        )
    return token


async def revoke_course_feed(conn: Conn, schema: str, patient_id: str, course_id: str) -> bool:
    """Whether the course had a live feed (its URL answers 404 from now on)."""
    revoked = await conn.fetchval(
        f"UPDATE {_table(schema)} SET revoked_at = now() WHERE kind = 'course' "  # noqa: S608
        "AND patient_id = $1 AND course_id = $2 AND revoked_at IS NULL RETURNING true",
        patient_id, course_id,
    )  # fmt: skip
    return bool(revoked)


async def live_feed(conn: Conn, schema: str, token: str) -> FoundFeed | None:
    """The live feed `token` opens; None for a revoked or unknown one alike (one statement,
    the same path for both)."""
    schema = checked_schema(schema)
    row = await conn.fetchrow(
        f'SELECT f.patient_id, f.course_id, p.state::text AS state, p.updated_at '  # noqa: S608
        f'FROM "{schema}".calendar_feeds AS f '
        f'LEFT JOIN "{schema}".patients AS p USING (patient_id) '
        "WHERE f.token_sha256 = $1 AND f.revoked_at IS NULL",
        token_digest(token),
    )  # fmt: skip
    if row is None:
        return None
    return FoundFeed(row["patient_id"], row["course_id"], row["state"], row["updated_at"])


def _table(schema: str) -> str:
    return f'"{checked_schema(schema)}".calendar_feeds'
