"""Composition root of the planner service (`courseflow run planner`)."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from schemas.causes import Cause
from schemas.clinic import ClinicEvent
from schemas.eligibility import EligibilityDecided
from schemas.staff import StaffEventUnion
from services.planner.calendar import ClinicCalendar
from services.planner.clinic import StaffDecider
from services.planner.clinic_repository import ClinicRepository
from services.planner.commands import Tick
from services.planner.decider import PlannerCommand, PlannerDecider, Timed, decode_decision
from services.planner.feeds.endpoint import calendar_feeds
from services.planner.feeds.tokens import PATH_PREFIX
from services.planner.repository import REMINDERS, PlannerRepository
from services.planner.settings import PlannerSettings
from services.planner.staff_commands import SessionsUnstaffed, decode_planner_command
from services.planner.state import PatientState
from services.runtime import logs
from services.runtime.clock import Clock, SystemClock, clinic_context, local_today
from services.runtime.db import Conn
from services.runtime.locks import LockNamespace
from services.runtime.metrics import Metrics
from services.runtime.outbox import OutboxMessage
from services.runtime.periodic import Periodic
from services.runtime.pipeline import Pipeline
from services.runtime.service import ServiceRuntime
from services.runtime.timers import TimerKey, TimerLoop, TimerRetry
from services.runtime.wire import decode_clinic_event, decode_staff_event

NAME = "planner"
PlannerPipeline = Pipeline[
    ClinicEvent | EligibilityDecided | SessionsUnstaffed, PlannerCommand, PatientState, Timed
]


def clinic_of(event: StaffEventUnion) -> str:
    """The record key of the staff topic (CONTRACT.md: key = data.clinic_id)."""
    return event.data.clinic_id


def calendar_from(settings: PlannerSettings) -> ClinicCalendar:
    return ClinicCalendar(
        time_zone=settings.clinic_timezone,
        open_weekdays=frozenset(settings.open_weekdays),
        holidays=frozenset(settings.holidays),
    )


@dataclass(frozen=True)
class PlannerService:
    """The service's parts a test may drive: the clock and the reminders' fire."""

    settings: PlannerSettings
    clock: Clock
    # The patient topics' pipeline: the reminders fold through it under the same patient locks.
    pipeline: "PlannerPipeline"

    async def fire(self, conn: Conn, key: TimerKey, due_on: date) -> list[OutboxMessage]:
        """A next-course reminder's day (R-COURSES-PER-YEAR): a `Tick` for its patient."""
        patient_id, course_id = key
        tick_id = f"reminder:{patient_id}:{course_id}:{due_on.isoformat()}"
        tick = Tick(tick_id, self.clock.now())
        return await self.pipeline.fire(conn, patient_id, tick, Cause.internal(tick_id))


def build_runtime(
    settings: PlannerSettings, clock: Clock | None = None, *, name: str = NAME
) -> tuple[ServiceRuntime, PlannerService]:
    """`name` is the consumer group and schema; tests give each run its own."""
    log = logs.configure(name, level=settings.log_level, fmt=settings.log_format)
    runtime = ServiceRuntime(name, settings, [Path(__file__).parent / "migrations"], log)
    clock = clock or SystemClock(settings.clock_offset_days)
    decider = PlannerDecider(
        calendar_from(settings), settings.policy(), f"{settings.event_source}/planner",
        settings.topic_schedule, settings.capacity_policy(), settings.topic_planner_commands,
    )  # fmt: skip
    zone = ZoneInfo(settings.clinic_timezone)

    def today() -> date:
        return local_today(clock, settings.clinic_timezone)

    repository = PlannerRepository(name, zone, settings.capacity_policy().turnover_min, today)
    context = clinic_context(clock, settings.clinic_timezone)
    # One consumer for the three topics the patient Decider folds: a batch of patient events
    # and one of eligibility decisions would otherwise take turns on the same clinic locks.
    pipeline: PlannerPipeline = runtime.consume(
        {
            settings.topic_patient_events: decode_clinic_event,
            settings.topic_eligibility: decode_decision,
            settings.topic_planner_commands: decode_planner_command,
        },
        decider, repository, context,
    )  # fmt: skip
    staff = StaffDecider(f"{settings.event_source}/planner", settings.topic_planner_commands)
    runtime.consume(
        {settings.topic_staff_events: decode_staff_event}, staff,
        ClinicRepository(zone, today),
        context, key_of=clinic_of, key_name="clinic_id", lock_namespace=LockNamespace.CLINIC,
        quiet=True,
    )  # fmt: skip
    service = PlannerService(settings, clock, pipeline)

    def reminders(pool: asyncpg.Pool) -> Periodic:
        return reminder_loop(pool, name, service, log, runtime.metrics).every(
            settings.timer_interval_s
        )

    runtime.run_in_background(reminders)
    runtime.serve(PATH_PREFIX, calendar_feeds(lambda: runtime.pool, name, settings.clinic_timezone))
    return runtime, service


def reminder_loop(
    pool: asyncpg.Pool,
    schema: str,
    service: PlannerService,
    log: Any,
    metrics: Metrics | None = None,
) -> TimerLoop:
    """Next-course reminders (R-COURSES-PER-YEAR) on their day."""
    s = service.settings
    return TimerLoop(
        pool, schema, REMINDERS, service.fire,
        lambda: local_today(service.clock, s.clinic_timezone), service.clock.now,
        s.topic_dead_letters, TimerRetry.of(s), log, metrics=metrics, timezone=s.clinic_timezone,
    )  # fmt: skip
