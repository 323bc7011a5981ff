"""`courseflow patient <id>`: one patient's decision, courses, plan (each session's therapist and
local time where placed) and notices, for people.

An operator's read-only view across the three services' schemas (the services themselves
never read each other's tables).
"""

import json
from typing import Any

import asyncpg

from services.ops.therapist import span
from services.planner.outputs import PlannedSession
from services.planner.state import PatientState, Placed
from services.runtime.db import checked_schema

PLANNER_SCHEMA = "planner"


async def patient_report(
    database_url: str, patient_id: str, planner_schema: str = PLANNER_SCHEMA
) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return [
            *await _decision(conn, patient_id),
            *await _courses(conn, patient_id, planner_schema),
            *await _notices(conn, patient_id),
        ]
    finally:
        await conn.close()


async def _fetch(conn: asyncpg.Connection, query: str, patient_id: str) -> list[asyncpg.Record]:
    try:
        return list(await conn.fetch(query, patient_id))
    except asyncpg.UndefinedTableError:
        return []  # that service has not started yet


async def _decision(conn: asyncpg.Connection, patient_id: str) -> list[str]:
    rows = await _fetch(
        conn, "SELECT decision::text, version FROM eligibility.patients WHERE patient_id = $1",
        patient_id,
    )  # fmt: skip
    if not rows:
        return ["eligibility: unknown patient"]
    if rows[0]["decision"] is None:
        return ["eligibility: facts kept, not enrolled yet (no decision)"]
    decision: dict[str, Any] = json.loads(rows[0]["decision"])
    verdict = "eligible" if decision["eligible"] else "NOT eligible"
    since = f", from {decision['eligible_from']}" if decision["eligible_from"] else ""
    lines = [f"eligibility (v{rows[0]['version']}): {verdict}{since}"]
    lines += [f"  block {b['rule']} since {b['since']} until {b['until'] or 'further notice'}"
              for b in decision["blocks"]]  # fmt: skip
    if decision["restrictions"]:
        lines.append(f"  restrictions: {', '.join(decision['restrictions'])}")
    return lines


async def _courses(conn: asyncpg.Connection, patient_id: str, schema: str) -> list[str]:
    rows = await _fetch(
        conn,
        f'SELECT state::text FROM "{checked_schema(schema)}".patients '  # noqa: S608
        "WHERE patient_id = $1",
        patient_id,
    )
    if not rows or rows[0]["state"] is None:
        return ["courses: none"]
    return course_lines(PatientState.from_json_text(rows[0]["state"])) or ["courses: none"]


def course_lines(state: PatientState) -> list[str]:
    """Each course and its planned sessions, with therapist and local time where placed."""
    placed = {(p.course_id, p.session_id): p for p in state.placements}
    lines: list[str] = []
    for course in state.published:
        done, planned = course.completed_sessions, len(course.sessions)
        lines.append(
            f"course {course.course_id} (v{course.version}): {course.status.value}, "
            f"{done} done, {planned} planned"
        )
        lines += [
            session_line(s, placed.get((course.course_id, s.session_id))) for s in course.sessions
        ]
    return lines


def session_line(session: PlannedSession, placement: Placed | None) -> str:
    """A placed session shows the placement's day (R-CAPACITY may have moved it), time and
    therapist; an unplaced one its date and the time R-PT-BEFORE or a preferred time fixed."""
    if placement is not None:
        on, therapist = placement.on, f" therapist {placement.therapist_id}"
        time = f"{span(placement.start_min, placement.end_min)}"
    else:
        on, therapist = session.on, ""
        time = session.starts_at.strftime("%H:%M") if session.starts_at else "--:--"
    line = (
        f"  #{session.number:<2} {on.isoformat()} {time:<11} {session.duration_min:>2} min"
        f"{therapist} {' '.join(session.notes)}"
    )
    return line.rstrip()


async def _notices(conn: asyncpg.Connection, patient_id: str) -> list[str]:
    rows = await _fetch(
        conn, "SELECT kind, channel, recipient, status, attempts, summary "
        "FROM notifier.deliveries WHERE patient_id = $1 ORDER BY created_at", patient_id,
    )  # fmt: skip
    lines = [f"notice {r['kind']} → {r['channel']}:{r['recipient']} [{r['status']}, "
             f"{r['attempts']} attempts] {r['summary']}" for r in rows]  # fmt: skip
    return lines or ["notices: none"]
