"""Composition root of the notifier service (`courseflow run notifier`)."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from services.notifier.backoff import RetryPolicy
from services.notifier.channels.dispatch import Channels
from services.notifier.channels.email import EmailChannel
from services.notifier.channels.log import LogChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.decider import NotifierDecider
from services.notifier.kinds import Kind
from services.notifier.outcomes import Outcomes
from services.notifier.repository import NotifierRepository
from services.notifier.routing_file import load_routing
from services.notifier.settings import NotifierSettings
from services.notifier.worker import DeliveryWorker
from services.runtime import logs
from services.runtime.clock import Clock, SystemClock, clinic_context
from services.runtime.periodic import Periodic
from services.runtime.service import ServiceRuntime
from services.runtime.wire import decode_any_event

NAME = "notifier"


@dataclass
class _WorkerWithClient:
    """The delivery loop and the HTTP client it uses live and die together."""

    loop: Periodic
    client: httpx.AsyncClient

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        await self.client.aclose()


def send_timeout_s(settings: NotifierSettings) -> float:
    """The most one send may take, whole: the channels' own timeouts bound each network step
    (connect, each read), so twice the slower one. An attempt's lease is at least twice this."""
    return 2 * max(settings.webhook_timeout_s, settings.smtp_timeout_s)


def build_runtime(
    settings: NotifierSettings, clock: Clock | None = None, *, name: str = NAME
) -> tuple[ServiceRuntime, NotifierDecider]:
    """`name` is the consumer group and schema; tests give each run its own."""
    log = logs.configure(name, level=settings.log_level, fmt=settings.log_format)
    clock = clock or SystemClock(settings.clock_offset_days)
    routing = load_routing(settings.routing_file)  # a bad file stops the start-up, clearly
    runtime = ServiceRuntime(name, settings, [Path(__file__).parent / "migrations"], log)
    window_s = settings.coalesce_window_s

    def unrouted_therapists(count: int) -> None:
        log.info("therapists without a recipient in the routing file: not told",
                 count=count, kind=Kind.THERAPIST_SCHEDULE_CHANGED.value)  # fmt: skip

    decider = NotifierDecider(routing, settings.clinic_timezone, window_s, unrouted_therapists)
    repository = NotifierRepository(coalesce=window_s > 0)
    context = clinic_context(clock, settings.clinic_timezone)
    queued = asyncio.Event()  # the delivery loop starts at once on notices queued here
    topics = (settings.topic_schedule, settings.topic_eligibility)
    runtime.consume(dict.fromkeys(topics, decode_any_event), decider, repository, context,
                    after_commit=queued.set)  # fmt: skip

    def deliveries(pool: asyncpg.Pool) -> _WorkerWithClient:
        client = httpx.AsyncClient(timeout=settings.webhook_timeout_s)
        channels = Channels({
            "webhook": WebhookChannel(client),
            "email": EmailChannel(routing.smtp, settings.smtp_timeout_s, settings.clinic_timezone),
            "log": LogChannel(log),
        })  # fmt: skip
        retry = RetryPolicy(settings.delivery_max_attempts, settings.delivery_first_retry_s,
                            settings.delivery_max_retry_s)  # fmt: skip
        outcomes = Outcomes(settings.topic_notices, settings.topic_dead_letters,
                            f"{settings.event_source}/notifier")  # fmt: skip
        worker = DeliveryWorker(pool, name, routing, channels, outcomes, retry, clock, log,
                                settings.delivery_batch_size, send_timeout_s(settings),
                                metrics=runtime.metrics)  # fmt: skip
        loop = Periodic("notifier-deliveries", worker.tick, settings.delivery_poll_interval_s, log,
                        full_batch=worker.batch_size, wakeup=queued)  # fmt: skip
        return _WorkerWithClient(loop, client)

    runtime.run_in_background(deliveries)
    return runtime, decider
