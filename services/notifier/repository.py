"""The notifier's schema: what it remembers per patient (`patients`) and the delivery queue
it fills (`deliveries`), read and written a batch at a time.

A batch's patients are locked by the pipeline (`services.runtime.locks`), and every notice
of a cause belongs to the cause's patient, so what is read here stays true until commit:
the memories, the notices already queued (a redelivered or replayed cause adds nothing) and,
when coalescing, the notices still waiting to be carried (locked: a worker skips them).
All of a batch's writes are then one statement.
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from services.notifier.calendar_updates import CALENDARS
from services.notifier.coalesce import Coalesced, Queued, coalesce
from services.notifier.decider import NEW_PATIENT, Addressed, Command
from services.notifier.decision_notices import PatientMemory
from services.notifier.kinds import Kind, family, mergeable
from services.runtime.db import Conn, states_by_key
from services.runtime.decider import Decided
from services.runtime.incoming import Incoming

Batch = Sequence[Decided[Command, PatientMemory, Addressed]]
EMAIL = "email"

_KNOWN_AND_WAITING = """
WITH waiting AS (
    SELECT notice_id, patient_id, recipient, family, kind, due_at, rules, summary, merged_kinds,
           created_at
    FROM deliveries
    WHERE (patient_id, recipient, family) IN
          (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
      AND status = 'pending' AND attempts = 0
    FOR UPDATE SKIP LOCKED
)
SELECT notice_id::text, true AS waiting, patient_id, recipient, family, kind, due_at, rules,
       summary, merged_kinds, created_at
FROM waiting
UNION ALL
SELECT notice_id::text, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM deliveries WHERE notice_id = ANY($4::uuid[])
"""

# Memories and new notices go as JSON documents: their array columns cannot be unnested.
_WRITE = """
WITH remembered AS (
    INSERT INTO patients (patient_id, version, blocked_by_postop, surgical_evaluation_advised,
                          advised_stages, next_course_from, calendar)
    SELECT * FROM json_to_recordset($1::json) AS m(
        patient_id text, version integer, blocked_by_postop boolean,
        surgical_evaluation_advised boolean, advised_stages smallint[], next_course_from date,
        calendar json)
    ON CONFLICT (patient_id) DO UPDATE SET version = EXCLUDED.version,
        blocked_by_postop = EXCLUDED.blocked_by_postop,
        surgical_evaluation_advised = EXCLUDED.surgical_evaluation_advised,
        advised_stages = EXCLUDED.advised_stages, next_course_from = EXCLUDED.next_course_from,
        calendar = EXCLUDED.calendar
), queued AS (
    INSERT INTO deliveries (notice_id, cause_id, kind, recipient, channel, family, patient_id,
        correlation_id, summary, rules, source_topic, source_partition, source_offset, due_at,
        traceparent, tracestate, status, carried_by, merged_kinds, calendar)
    SELECT * FROM json_to_recordset($2::json) AS d(
        notice_id uuid, cause_id text, kind text, recipient text, channel text, family text,
        patient_id text, correlation_id text, summary text, rules text[], source_topic text,
        source_partition integer, source_offset bigint, due_at timestamptz, traceparent text,
        tracestate text, status text, carried_by uuid, merged_kinds text[], calendar json)
    ON CONFLICT DO NOTHING
)
UPDATE deliveries AS d SET status = 'merged', carried_by = t.carrier
FROM unnest($3::uuid[], $4::uuid[]) AS t(notice_id, carrier)
WHERE d.notice_id = t.notice_id OR d.carried_by = t.notice_id
"""


class NotifierRepository:
    def __init__(self, *, coalesce: bool) -> None:
        self.coalesce = coalesce

    async def load_many(self, conn: Conn, keys: Sequence[str]) -> dict[str, PatientMemory]:
        return await states_by_key(
            conn,
            "SELECT patient_id, version, blocked_by_postop, surgical_evaluation_advised, "
            "advised_stages, next_course_from, calendar::text AS calendar FROM patients "
            "WHERE patient_id = ANY($1::text[])",
            keys, NEW_PATIENT, _memory,
        )  # fmt: skip

    async def save_many(
        self, conn: Conn, states: Mapping[str, PatientMemory], decided: Batch
    ) -> None:
        """The changed memories, and every decided notice queued once (coalesced)."""
        addressed = _addressed(decided)
        new = [_queued(item) for item, _ in addressed.values()]
        merging = [q for q in new if mergeable(Kind(q.kind))] if self.coalesce else []
        if merging:
            known, waiting = await _known_and_waiting(conn, merging)
            coalesced = coalesce([q for q in merging if q.notice_id not in known], waiting)
            coalesced.queued += [q for q in new if not mergeable(Kind(q.kind))]
        else:  # a notice already queued is left as it is (ON CONFLICT DO NOTHING)
            coalesced = Coalesced(new)
        if not states and not coalesced.queued:
            return
        carrier = coalesced.carrier
        rows = [
            _delivery_json(*addressed[queued.notice_id], queued, carrier.get(queued.notice_id))
            for queued in coalesced.queued
        ]
        await conn.execute(
            _WRITE,
            json.dumps([_memory_json(key, memory) for key, memory in states.items()]),
            json.dumps(rows),
            [uuid.UUID(merged) for merged in carrier],
            [uuid.UUID(carried_by) for carried_by in carrier.values()],
        )


def _addressed(decided: Batch) -> dict[str, tuple[Addressed, Incoming | None]]:
    """Every notice of the batch once, with the record that caused it, in the batch's order."""
    addressed: dict[str, tuple[Addressed, Incoming | None]] = {}
    for one in decided:
        for item in one.outputs:
            addressed.setdefault(item.notice_id, (item, one.incoming))
    return addressed


def _queued(item: Addressed) -> Queued:
    n = item.notice
    group = (n.patient_id, item.recipient, family(n.kind))
    return Queued(item.notice_id, group, n.kind.value, item.due_at, n.rules, n.summary)


async def _known_and_waiting(conn: Conn, new: Sequence[Queued]) -> tuple[set[str], list[Queued]]:
    """Which new notices are queued already, and the notices waiting in their groups (oldest
    first), locked until commit; those a worker is claiming right now are skipped."""
    groups = sorted({queued.group for queued in new})
    rows = await conn.fetch(
        _KNOWN_AND_WAITING,
        [patient for patient, _, _ in groups],
        [recipient for _, recipient, _ in groups],
        [kinds for _, _, kinds in groups],
        [uuid.UUID(queued.notice_id) for queued in new],
    )
    known = {row["notice_id"] for row in rows if not row["waiting"]}
    waiting = sorted((row for row in rows if row["waiting"]), key=lambda row: row["created_at"])
    return known, [_waiting(row) for row in waiting]


def _waiting(row: asyncpg.Record) -> Queued:
    group = (row["patient_id"], row["recipient"], row["family"])
    return Queued(row["notice_id"], group, row["kind"], row["due_at"], tuple(row["rules"]),
                  row["summary"], tuple(row["merged_kinds"]))  # fmt: skip


def _memory(row: asyncpg.Record) -> PatientMemory:
    return PatientMemory(
        row["version"],
        row["blocked_by_postop"],
        row["surgical_evaluation_advised"],
        frozenset(row["advised_stages"]),
        row["next_course_from"],
        CALENDARS.validate_json(row["calendar"]),
    )


def _memory_json(patient_id: str, memory: PatientMemory) -> dict[str, Any]:
    ends = memory.next_course_from
    return {
        "patient_id": patient_id, "version": memory.version,
        "blocked_by_postop": memory.blocked_by_postop,
        "surgical_evaluation_advised": memory.surgical_evaluation_advised,
        "advised_stages": sorted(memory.advised_stages),
        "next_course_from": None if ends is None else ends.isoformat(),
        "calendar": CALENDARS.dump_python(memory.calendar, mode="json"),
    }  # fmt: skip


def _delivery_json(
    item: Addressed, incoming: Incoming | None, queued: Queued, carried_by: str | None
) -> dict[str, Any]:
    """`incoming` is the record that caused the notice: its dead letter names it."""
    n, cause = item.notice, item.cause
    return {
        "notice_id": item.notice_id, "cause_id": n.cause_id, "kind": n.kind.value,
        "recipient": item.recipient, "channel": item.channel, "family": family(n.kind),
        "patient_id": n.patient_id, "correlation_id": cause.correlation_id,
        "summary": queued.summary, "rules": list(queued.rules),
        "source_topic": incoming.topic if incoming else "unknown",
        "source_partition": incoming.partition if incoming else -1,
        "source_offset": incoming.offset if incoming else -1,
        "due_at": queued.due_at.isoformat(), "traceparent": cause.traceparent,
        "tracestate": cause.tracestate, "status": "merged" if carried_by else "pending",
        "carried_by": carried_by, "merged_kinds": list(queued.merged_kinds),
        "calendar": _calendar_json(item),
    }  # fmt: skip


def _calendar_json(item: Addressed) -> Any:
    """The calendar part is for e-mail: the other channels' rows carry none."""
    update = item.notice.calendar
    if update is None or item.channel != EMAIL:
        return None
    return update.json_data()
