"""The planner service under test: real broker and database, a movable clock (no tests here).

Each run gets its own topics, consumer group and schema (the suffix). Steps that must happen
in a given order across the two topics wait until the planner has handled the previous ones
(`handled`), and the schedule topic is read to its end offsets, never for a fixed time.
"""

import json
import time as time_module
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.codec import new_event, to_bytes
from schemas.eligibility import EligibilityDecided
from schemas.envelope import Envelope
from schemas.staff import StaffEventUnion
from services.planner.app import PlannerService, build_runtime
from services.planner.settings import PlannerSettings
from services.runtime.service import ServiceRuntime
from tests.clinic_events import ClinicFeed
from tests.integration.kafka_io import eventually, produce, uncommitted

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)
D = date(2026, 3, 2)  # a Monday; a 15-session course from here crosses the DST change
ELIGIBILITY_SOURCE = "/courseflow/eligibility"
PARTITIONS = 2

Event = dict[str, Any]
Session = dict[str, Any]


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@dataclass
class MovableClock:
    today: date

    def now(self) -> datetime:
        return datetime.combine(self.today, time(12), tzinfo=UTC)


@dataclass
class PlannerFeed(ClinicFeed):
    """Clinic events the planner reads, beyond the shared builders."""

    def prescription(
        self,
        on: date,
        course_id: str = "C1",
        *,
        sessions: int = 15,
        cadence: str = "every_other_day",
        preferred_time: str | None = "09:00",
    ) -> Envelope:
        data: dict[str, Any] = {"course_id": course_id, "sessions": sessions,
                                "cadence": cadence, "start_on": on.isoformat()}  # fmt: skip
        if preferred_time is not None:
            data["preferred_time"] = preferred_time
        return self.event("clinic.course.prescribed", on, data)

    def completed(self, session: Session, course_id: str = "C1") -> Envelope:
        on = date.fromisoformat(session["on"])
        data = {"course_id": course_id, "session_id": session["session_id"],
                "performed_at": local(on).isoformat()}  # fmt: skip
        return self.event("clinic.session.completed", on, data)

    def not_performed(self, session: Session, reason: str, course_id: str = "C1") -> Envelope:
        on = date.fromisoformat(session["on"])
        data = {"course_id": course_id, "session_id": session["session_id"], "reason": reason}
        return self.event("clinic.session.not_performed", on, data)

    def physical_therapy(self, starts_at: datetime, appointment_id: str = "PT-1") -> Envelope:
        data = {"appointment_id": appointment_id, "starts_at": starts_at.isoformat()}
        return self.event("clinic.physical_therapy.booked", starts_at.date() - timedelta(3), data)


@dataclass
class Decisions:
    """`courseflow.eligibility.decided` for one patient, versions strictly increasing.

    Like eligibility, each decision carries every block known so far: a block of an earlier
    decision that is not among the new ones is over (in `history`); an open one was ended
    by a clinical event reported on the decision's day, so it ends the day after.
    """

    patient: str
    version: int = 0
    known: list[Event] = field(default_factory=list)

    def eligible(self, on: date) -> Envelope:
        return self._decided(on, eligible=True, blocks=(), eligible_from=None)

    def blocked(
        self, on: date, rule: str, since: date, until: date | None = None,
        *, eligible_from: date | None = None,
    ) -> Envelope:  # fmt: skip
        block = {"rule": rule, "since": since.isoformat(),
                 "until": None if until is None else until.isoformat()}  # fmt: skip
        return self._decided(on, eligible=False, blocks=(block,), eligible_from=eligible_from)

    def _decided(
        self, on: date, *, eligible: bool, blocks: tuple[Event, ...], eligible_from: date | None
    ) -> Envelope:
        self.version += 1
        current = {(b["rule"], b["since"]) for b in blocks}
        ended = [b for b in self.known if (b["rule"], b["since"]) not in current]
        next_day = (on + timedelta(days=1)).isoformat()
        history = [{**b, "until": b["until"] or next_day} for b in ended]
        self.known = [*history, *blocks]
        from_on = None if eligible_from is None else eligible_from.isoformat()
        data = {"eligible": eligible, "eligible_from": from_on, "blocks": list(blocks),
                "restrictions": [], "version": self.version, "history": history}  # fmt: skip
        return new_event(
            EligibilityDecided, source=ELIGIBILITY_SOURCE, subject=self.patient, data=data,
            time=datetime.combine(on, time(12), tzinfo=UTC),
        )  # fmt: skip


def settings_for(suffix: str) -> PlannerSettings:
    return PlannerSettings(
        topic_patient_events=f"clinic-{suffix}", topic_eligibility=f"elig-{suffix}",
        topic_schedule=f"sched-{suffix}", topic_notices=f"notices-{suffix}",
        topic_dead_letters=f"dead-{suffix}", topic_staff_events=f"staff-{suffix}",
        topic_planner_commands=f"cmds-{suffix}",
        topic_partitions=PARTITIONS,
        outbox_poll_interval_s=0.2, timer_interval_s=3600, log_format="json",
        clinic_timezone=ZONE,
    )  # fmt: skip


async def read_to_end(bootstrap: str, topic: str) -> list[Any]:
    """Every record of `topic` up to its current end offsets (no consumer group to join)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time_module.monotonic() + 20
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            assert time_module.monotonic() < deadline, f"{topic} not read to its end in time"
            batch = await consumer.getmany(*partitions, timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
        return records
    finally:
        await consumer.stop()


async def consumed_to_end(bootstrap: str, group: str, topics: Sequence[str]) -> bool:
    return not await uncommitted(bootstrap, group, topics, partitions=PARTITIONS)


@dataclass
class Planner:
    runtime: ServiceRuntime
    service: PlannerService
    clock: MovableClock
    bootstrap: str
    suffix: str
    sent: list[str] = field(default_factory=list)

    async def send(self, *events: Envelope) -> None:
        for event in events:
            await self.send_raw(f"clinic-{self.suffix}", event.subject, to_bytes(event))
            self.sent.append(event.id)

    async def decide(self, *events: Envelope) -> None:
        for event in events:
            await self.send_raw(f"elig-{self.suffix}", event.subject, to_bytes(event))
            self.sent.append(event.id)

    async def staff(self, *events: StaffEventUnion) -> None:
        """Staff events, keyed by their clinic (CONTRACT.md)."""
        for event in events:
            await self.send_raw(f"staff-{self.suffix}", event.data.clinic_id, to_bytes(event))
            self.sent.append(event.id)

    async def send_raw(self, topic: str, patient: str, value: bytes) -> None:
        await produce(self.bootstrap, topic, value, key=patient.encode())

    async def handled(self) -> None:
        """Everything sent so far is consumed (offsets committed after the database commit,
        dead letters included) and every output is published."""
        topics = [f"clinic-{self.suffix}", f"elig-{self.suffix}", f"staff-{self.suffix}",
                  f"cmds-{self.suffix}"]  # fmt: skip

        async def done() -> bool:
            if not await consumed_to_end(self.bootstrap, self.runtime.name, topics):
                return False
            async with self.runtime.pool.acquire() as conn:
                unsent = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            return bool(unsent == 0)

        await eventually(done, timeout_s=20)

    async def published(self, patient: str) -> list[Event]:
        """The patient's schedule events, after everything sent so far was handled."""
        await self.handled()
        records = await read_to_end(self.bootstrap, f"sched-{self.suffix}")
        return [json.loads(r.value) for r in records if r.key == patient.encode()]

    async def dead_letters(self) -> list[Any]:
        await self.handled()
        return await read_to_end(self.bootstrap, f"dead-{self.suffix}")

    async def complete(self, feed: PlannerFeed, sessions: Sequence[Session]) -> None:
        await self.send(*(feed.completed(s) for s in sessions))


@asynccontextmanager
async def started_planner(bootstrap: str, suffix: str) -> AsyncIterator[Planner]:
    clock = MovableClock(D)
    runtime, service = build_runtime(settings_for(suffix), clock, name=f"plan_{suffix}")
    await runtime.start()
    try:
        yield Planner(runtime, service, clock, bootstrap, suffix)
    finally:
        await runtime.stop()


def types(events: Sequence[Event]) -> list[str]:
    return [e["type"].removeprefix("courseflow.course.") for e in events]


def open_sessions(event: Event, done: Sequence[Session] = ()) -> list[Session]:
    """The event's plan without the sessions completed since (completion publishes nothing)."""
    done_ids = {s["session_id"] for s in done}
    return [s for s in event["data"]["sessions"] if s["session_id"] not in done_ids]


def days(sessions: Sequence[Session]) -> list[date]:
    return [date.fromisoformat(s["on"]) for s in sessions]


def new_patient() -> tuple[PlannerFeed, Decisions]:
    feed = PlannerFeed(patient=f"P-{uuid.uuid4().hex[:10]}")
    return feed, Decisions(feed.patient)
