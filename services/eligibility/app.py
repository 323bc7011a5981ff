"""Composition root of the eligibility service (`courseflow run eligibility`)."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

from schemas.causes import Cause
from schemas.clinic import ClinicEvent
from services.eligibility.decider import Command, EligibilityDecider, Output, Reevaluate
from services.eligibility.patient import PatientRecord
from services.eligibility.repository import TIMERS, EligibilityRepository
from services.eligibility.settings import EligibilitySettings
from services.runtime import logs
from services.runtime.clock import Clock, SystemClock, clinic_context, local_today
from services.runtime.db import Conn
from services.runtime.metrics import Metrics
from services.runtime.outbox import OutboxMessage
from services.runtime.periodic import Periodic
from services.runtime.pipeline import Pipeline
from services.runtime.service import ServiceRuntime
from services.runtime.timers import TimerKey, TimerLoop, TimerRetry
from services.runtime.wire import decode_clinic_event

NAME = "eligibility"


@dataclass(frozen=True)
class EligibilityService:
    """The service's parts a test may drive: the clock and the patient timers' fire."""

    settings: EligibilitySettings
    clock: Clock
    pipeline: Pipeline[ClinicEvent, Command, PatientRecord, Output]

    async def fire(self, conn: Conn, key: TimerKey, due_on: date) -> list[OutboxMessage]:
        """A patient's timer: the decision of its day, through the same Decider."""
        (patient_id,) = key
        cause = Cause.internal(f"timer:{patient_id}:{due_on.isoformat()}")
        return await self.pipeline.fire(conn, patient_id, Reevaluate(due_on), cause)


def build_runtime(
    settings: EligibilitySettings, clock: Clock | None = None, *, name: str = NAME
) -> tuple[ServiceRuntime, EligibilityService]:
    """`name` is the consumer group and schema; tests give each run its own."""
    log = logs.configure(name, level=settings.log_level, fmt=settings.log_format)
    runtime = ServiceRuntime(name, settings, [Path(__file__).parent / "migrations"], log)
    clock = clock or SystemClock(settings.clock_offset_days)
    decider = EligibilityDecider(
        settings.policy(), settings.clinic_timezone, f"{settings.event_source}/eligibility",
        settings.topic_eligibility,
    )  # fmt: skip
    pipeline = runtime.consume(
        {settings.topic_patient_events: decode_clinic_event}, decider, EligibilityRepository(),
        clinic_context(clock, settings.clinic_timezone),
    )  # fmt: skip
    service = EligibilityService(settings, clock, pipeline)

    def timers(pool: asyncpg.Pool) -> Periodic:
        return timer_loop(pool, name, service, log, runtime.metrics).every(
            settings.timer_interval_s
        )

    runtime.run_in_background(timers)
    return runtime, service


def timer_loop(
    pool: asyncpg.Pool,
    schema: str,
    service: EligibilityService,
    log: Any,
    metrics: Metrics | None = None,
) -> TimerLoop:
    """The days on which a decision changes by time alone (eligible again after R-POSTOP, …)."""
    s = service.settings
    return TimerLoop(
        pool, schema, TIMERS, service.fire,
        lambda: local_today(service.clock, s.clinic_timezone), service.clock.now,
        s.topic_dead_letters, TimerRetry.of(s), log, metrics=metrics, timezone=s.clinic_timezone,
    )  # fmt: skip
