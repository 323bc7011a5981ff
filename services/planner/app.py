"""Composition root of the planner service (`courseflow run planner`)."""

from pathlib import Path
from typing import Any

import asyncpg
from faststream import FastStream
from faststream.asgi import AsgiFastStream

from services.planner.calendar import ClinicCalendar
from services.planner.handler import PlannerHandler
from services.planner.repository import REMINDERS, states_of_batch
from services.planner.settings import PlannerSettings
from services.runtime import logs
from services.runtime.clock import Clock, SystemClock
from services.runtime.periodic import Periodic
from services.runtime.service import ServiceRuntime
from services.runtime.timers import TimerLoop, TimerRetry
from services.runtime.wire import decode_any_event, decode_clinic_event

NAME = "planner"


def calendar_from(settings: PlannerSettings) -> ClinicCalendar:
    return ClinicCalendar(
        time_zone=settings.clinic_timezone,
        open_weekdays=frozenset(settings.open_weekdays),
        holidays=frozenset(settings.holidays),
    )


def build_runtime(
    settings: PlannerSettings, clock: Clock | None = None, *, name: str = NAME
) -> tuple[ServiceRuntime, PlannerHandler]:
    """`name` is the consumer group and schema; tests give each run its own."""
    log = logs.configure(name, level=settings.log_level, fmt=settings.log_format)
    runtime = ServiceRuntime(name, settings, [Path(__file__).parent / "migrations"], log)
    policy = settings.policy()
    handler = PlannerHandler(
        settings, calendar_from(settings), policy, clock or SystemClock(settings.clock_offset_days)
    )
    runtime.consume(
        settings.topic_patient_events, decode_clinic_event, handler.on_clinic_event,
        batch_scope=states_of_batch,
    )  # fmt: skip
    runtime.consume(
        settings.topic_eligibility, decode_any_event, handler.on_eligibility_event,
        batch_scope=states_of_batch,
    )  # fmt: skip

    def reminders(pool: asyncpg.Pool) -> Periodic:
        return reminder_loop(pool, name, handler, log).every(settings.timer_interval_s)

    runtime.run_in_background(reminders)
    return runtime, handler


def reminder_loop(pool: asyncpg.Pool, schema: str, handler: PlannerHandler, log: Any) -> TimerLoop:
    """Next-course reminders (R-COURSES-PER-YEAR) on their day."""
    s = handler.settings
    return TimerLoop(
        pool, schema, REMINDERS, handler.on_reminder, handler.today, handler.clock.now,
        s.topic_dead_letters, TimerRetry.of(s), log,
    )  # fmt: skip


def build_app() -> FastStream | AsgiFastStream:
    runtime, _ = build_runtime(PlannerSettings())
    return runtime.app()
