"""The `calendar_feeds` table: a feed's URL made once, found by its token, revoked; and the
planner's rows a feed is made from (patients' states, a therapist's bookings).

A feed is a course's (patient and course ids) or a therapist's (clinic and therapist ids).
Every function names the planner's schema (the service's own name; a test run's differs),
so the operators' command and the service share the statements.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from services.planner.feeds.therapist import BookedSession
from services.planner.feeds.tokens import feed_token, new_nonce, token_digest
from services.runtime.db import Conn, checked_schema


class UrlKeyChangedError(Exception):
    """The live URL of a feed was made with another URL key: it cannot be printed again."""


@dataclass(frozen=True, slots=True)
class CourseFeed:
    patient_id: str
    course_id: str
    kind: ClassVar[str] = "course"
    columns: ClassVar[tuple[str, str]] = ("patient_id", "course_id")

    @property
    def ids(self) -> tuple[str, str]:
        return self.patient_id, self.course_id


@dataclass(frozen=True, slots=True)
class TherapistFeed:
    clinic_id: str
    therapist_id: str
    kind: ClassVar[str] = "therapist"
    columns: ClassVar[tuple[str, str]] = ("clinic_id", "therapist_id")

    @property
    def ids(self) -> tuple[str, str]:
        return self.clinic_id, self.therapist_id


Feed = CourseFeed | TherapistFeed


@dataclass(frozen=True, slots=True)
class PatientRow:
    state: str
    updated_at: datetime


async def live_token(conn: Conn, schema: str, feed: Feed, key: str) -> str:
    """The token of the feed's live URL, made now if it has none (at most one is live: two
    callers at once get the same one)."""
    table, (first, second) = _table(schema), feed.columns
    nonce = new_nonce()
    await conn.execute(
        f"INSERT INTO {table} (token_sha256, nonce, kind, {first}, {second}) "  # noqa: S608
        f"VALUES ($1, $2, $3, $4, $5) "
        f"ON CONFLICT (kind, {first}, {second}) WHERE revoked_at IS NULL DO NOTHING",
        token_digest(feed_token(key, nonce)), nonce, feed.kind, *feed.ids,
    )  # fmt: skip
    row = await conn.fetchrow(
        f"SELECT nonce, token_sha256 FROM {table} WHERE kind = $1 "  # noqa: S608
        f"AND {first} = $2 AND {second} = $3 AND revoked_at IS NULL",
        feed.kind, *feed.ids,
    )  # fmt: skip
    assert row is not None, "a live feed was inserted or already there"
    token = feed_token(key, row["nonce"])
    if token_digest(token) != row["token_sha256"]:
        raise UrlKeyChangedError(
            "this feed's URL was made with another calendar URL key: revoke it for a new one"
        )
    return token


async def revoke(conn: Conn, schema: str, feed: Feed) -> bool:
    """Whether the feed had a live URL (it answers 404 from now on)."""
    first, second = feed.columns
    revoked = await conn.fetchval(
        f"UPDATE {_table(schema)} SET revoked_at = now() WHERE kind = $1 "  # noqa: S608
        f"AND {first} = $2 AND {second} = $3 AND revoked_at IS NULL RETURNING true",
        feed.kind, *feed.ids,
    )  # fmt: skip
    return bool(revoked)


async def live_feed(conn: Conn, schema: str, token: str) -> Feed | None:
    """The live feed `token` opens; None for a revoked or unknown one alike (one statement,
    the same path for both)."""
    row = await conn.fetchrow(
        f"SELECT kind, patient_id, course_id, clinic_id, therapist_id FROM {_table(schema)} "  # noqa: S608
        "WHERE token_sha256 = $1 AND revoked_at IS NULL",
        token_digest(token),
    )
    if row is None:
        return None
    if row["kind"] == TherapistFeed.kind:
        return TherapistFeed(row["clinic_id"], row["therapist_id"])
    return CourseFeed(row["patient_id"], row["course_id"])


async def patient_rows(
    conn: Conn, schema: str, patient_ids: Sequence[str]
) -> dict[str, PatientRow]:
    """The planner's rows of these patients (a patient without one is left out)."""
    rows = await conn.fetch(
        f"SELECT patient_id, state::text AS state, updated_at "  # noqa: S608
        f'FROM "{checked_schema(schema)}".patients WHERE patient_id = ANY($1::text[])',
        list(patient_ids),
    )
    return {row["patient_id"]: PatientRow(row["state"], row["updated_at"]) for row in rows}


async def booked_sessions(conn: Conn, schema: str, feed: TherapistFeed) -> list[BookedSession]:
    """The therapist's bookings in the clinic, by start."""
    rows = await conn.fetch(
        f"SELECT patient_id, course_id, session_id "  # noqa: S608
        f'FROM "{checked_schema(schema)}".bookings WHERE clinic_id = $1 AND therapist_id = $2 '
        "ORDER BY starts_at, patient_id, session_id",
        *feed.ids,
    )
    return [BookedSession(r["patient_id"], r["course_id"], r["session_id"]) for r in rows]


def _table(schema: str) -> str:
    return f'"{checked_schema(schema)}".calendar_feeds'
