"""Composition root of the eligibility service (`courseflow run eligibility`)."""

from pathlib import Path
from typing import Any

import asyncpg

from services.eligibility.handler import EligibilityHandler
from services.eligibility.repository import TIMERS
from services.eligibility.settings import EligibilitySettings
from services.runtime import logs
from services.runtime.clock import Clock, SystemClock
from services.runtime.periodic import Periodic
from services.runtime.service import ServiceApp, ServiceRuntime
from services.runtime.timers import TimerLoop, TimerRetry
from services.runtime.wire import decode_clinic_event

NAME = "eligibility"


def build_runtime(
    settings: EligibilitySettings, clock: Clock | None = None, *, name: str = NAME
) -> tuple[ServiceRuntime, EligibilityHandler]:
    """`name` is the consumer group and schema; tests give each run its own."""
    log = logs.configure(name, level=settings.log_level, fmt=settings.log_format)
    runtime = ServiceRuntime(name, settings, [Path(__file__).parent / "migrations"], log)
    policy = settings.policy()
    handler = EligibilityHandler(settings, policy, clock or SystemClock(settings.clock_offset_days))
    runtime.consume(settings.topic_patient_events, decode_clinic_event, handler.on_clinic_event)

    def timers(pool: asyncpg.Pool) -> Periodic:
        return timer_loop(pool, name, handler, log).every(settings.timer_interval_s)

    runtime.run_in_background(timers)
    return runtime, handler


def timer_loop(pool: asyncpg.Pool, schema: str, handler: EligibilityHandler, log: Any) -> TimerLoop:
    """The days on which a decision changes by time alone (eligible again after R-POSTOP, …)."""
    s = handler.settings
    return TimerLoop(
        pool, schema, TIMERS, handler.on_timer, handler.today, handler.clock.now,
        s.topic_dead_letters, TimerRetry.of(s), log,
    )  # fmt: skip


def build_app() -> ServiceApp:
    runtime, _ = build_runtime(EligibilitySettings())
    return runtime.app()
