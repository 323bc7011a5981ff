"""The delivery worker's attempts on real PostgreSQL and a real webhook receiver, with a
clock the test moves: every attempt is counted before it is sent, a send whose outcome was
never recorded is sent again only after its lease, under the same webhook-id, and
`max_attempts` trips whatever happens between sending and recording."""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import structlog

import services.notifier.app
from schemas.causes import Cause
from schemas.schedule import CourseData
from services.notifier.backoff import RetryPolicy
from services.notifier.channels.dispatch import Channels
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.decider import NEW_PATIENT, AnnounceCourse, Command, NotifierDecider
from services.notifier.outcomes import Outcomes
from services.notifier.repository import NotifierRepository
from services.notifier.routing import RoutingConfig, parse_routing
from services.notifier.worker import DeliveryWorker
from services.runtime.clock import clinic_context
from services.runtime.db import create_pool, migrate
from services.runtime.decider import Decided
from services.runtime.incoming import Incoming
from services.runtime.metrics import Metrics
from tests.integration.conftest import DATABASE_URL
from tests.integration.peers.notifier_harness import local_webhook, schedule_event
from tests.integration.peers.webhook import WebhookReceiver

MIGRATIONS = [Path(services.notifier.app.__file__).parent / "migrations"]
RETRY = RetryPolicy(max_attempts=3, first_delay_s=1.0, max_delay_s=8.0)
SEND_TIMEOUT_S = 2.0
PATIENT = "P-attempts"


@dataclass
class MovableClock:
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.at


@dataclass
class Rig:
    """One notifier schema, its delivery worker and the webhook receiver it delivers to."""

    schema: str
    pool: asyncpg.Pool
    db: asyncpg.Connection
    receiver: WebhookReceiver
    worker: DeliveryWorker
    clock: MovableClock
    pauses: list[float]
    routing: RoutingConfig

    async def queue(self, event_type: str, *, coalesce: bool = False) -> str:
        """The notice of a new schedule event of `event_type`, queued as the service does."""
        event = schedule_event(event_type, PATIENT)
        assert isinstance(event.data, CourseData)
        command: Command = AnnounceCourse(Cause.of(event), PATIENT, event.data, event.time)
        decider = NotifierDecider(self.routing, "UTC", coalesce_window_s=0)
        memory, outputs = decider.decide(NEW_PATIENT, command, clinic_context(self.clock, "UTC")())
        item = outputs[0]  # the plan's notice; a copy of the therapist's (T-07) may follow
        record = Incoming("sched", 0, 1, PATIENT.encode(), b"")
        decided = Decided(PATIENT, command, memory, (item,), command.cause, record)
        async with self.pool.acquire() as conn, conn.transaction():
            await NotifierRepository(coalesce=coalesce).save_many(conn, {}, [decided])
        return item.notice_id

    async def row(self, notice_id: str) -> asyncpg.Record:
        record = await self.db.fetchrow(
            f"SELECT status, attempts, due_at, carried_by FROM {self.schema}.deliveries "
            "WHERE notice_id = $1",
            uuid.UUID(notice_id),
        )
        assert record is not None
        return record

    async def outbox(self) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
        rows = await self.db.fetch(
            f"SELECT topic, value, headers FROM {self.schema}.outbox ORDER BY id"
        )
        return [(r["topic"], json.loads(r["value"])["data"], dict(json.loads(r["headers"])))
                for r in rows]  # fmt: skip

    def lose_the_database_while_sending(self, times: int) -> None:
        """The worker's database connections are killed while the receiver holds the request:
        the notice is delivered, but the worker cannot record that it was."""
        left = [times]

        async def kill(_webhook_id: str) -> None:
            if left[0] > 0:
                left[0] -= 1
                await self.db.execute(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE application_name = $1",
                    f"courseflow-{self.schema}",
                )

        self.receiver.on_request = kill

    async def tick_losing_the_outcome(self) -> None:
        lost = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
        with pytest.raises(lost):
            await self.worker.tick()

    async def at_due_time(self, notice_id: str) -> None:
        self.clock.at = (await self.row(notice_id))["due_at"]

    def counted(self, outcome: str) -> float | None:
        """Attempts of this outcome in the worker's /metrics."""
        assert self.worker.metrics is not None
        labels = {"service": self.schema, "channel": "webhook", "outcome": outcome}
        return self.worker.metrics.registry.get_sample_value(
            "courseflow_notice_deliveries_total", labels
        )


@pytest.fixture
async def rig(suffix: str, db: asyncpg.Connection) -> AsyncIterator[Rig]:
    schema = f"notif_attempts_{suffix}"
    pool = await create_pool(DATABASE_URL, schema)
    async with pool.acquire() as conn:
        await migrate(conn, schema, MIGRATIONS)
    receiver = await WebhookReceiver().start()
    everything = [{"kinds": ["*"], "recipients": ["front-desk"]}]
    routing = parse_routing({"recipients": {"front-desk": local_webhook(receiver)},
                             "routes": everything})  # fmt: skip
    client = httpx.AsyncClient(timeout=SEND_TIMEOUT_S)
    clock, pauses = MovableClock(), []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    worker = DeliveryWorker(
        pool, schema, routing, Channels({"webhook": WebhookChannel(client)}),
        Outcomes("notices", "dead-letters", "/courseflow/notifier"), RETRY, clock,
        structlog.get_logger(), send_timeout_s=SEND_TIMEOUT_S, idle_s=0.1, sleep=pause,
        metrics=Metrics(schema),
    )  # fmt: skip
    try:
        yield Rig(schema, pool, db, receiver, worker, clock, pauses, routing)
    finally:
        await client.aclose()
        await receiver.stop()
        await pool.close()
        await db.execute(f"DROP SCHEMA {schema} CASCADE")


async def test_an_unrecorded_send_is_sent_again_only_after_its_lease_with_the_same_id(
    rig: Rig,
) -> None:
    notice = await rig.queue("suspended")
    rig.lose_the_database_while_sending(times=1)
    sent_at = rig.clock.now()
    await rig.tick_losing_the_outcome()
    assert rig.receiver.requests == [notice]
    leased = await rig.row(notice)
    assert (leased["status"], leased["attempts"]) == ("pending", 1)  # counted before the send
    assert leased["due_at"] >= sent_at + timedelta(seconds=RETRY.first_delay_s)

    idle = await rig.worker.tick()
    assert idle.done == 0  # no hot loop: nothing is due before the lease ends
    assert rig.receiver.requests == [notice]
    # The loop is told to sleep until the lease ends, not to poll meanwhile.
    until_lease_ends = (leased["due_at"] - rig.clock.now()).total_seconds()
    assert idle.next_due_in_s == pytest.approx(until_lease_ends)

    await rig.at_due_time(notice)
    assert (await rig.worker.tick()).done == 1
    assert rig.receiver.requests == [notice, notice]  # the same webhook-id: one notice taken
    assert list(rig.receiver.accepted) == [notice]
    done = await rig.row(notice)
    assert (done["status"], done["attempts"]) == ("delivered", 2)
    [(topic, issued, _)] = await rig.outbox()
    assert (topic, issued["delivery"], issued["attempts"]) == ("notices", "delivered", 2)
    assert (rig.counted("delivered"), rig.counted("retry"), rig.counted("failed")) == (1, 0, 0)


async def test_a_notice_arriving_after_an_unrecorded_send_does_not_carry_it_again(
    rig: Rig,
) -> None:
    suspended = await rig.queue("suspended", coalesce=True)
    rig.lose_the_database_while_sending(times=1)
    await rig.tick_losing_the_outcome()
    resumed = await rig.queue("resumed", coalesce=True)
    assert (await rig.row(suspended))["carried_by"] is None  # attempted: never merged

    assert (await rig.worker.tick()).done == 1
    assert rig.receiver.requests == [suspended, resumed]
    assert rig.receiver.accepted[resumed]["merged_notice_ids"] == []  # not re-sent under a new id

    await rig.at_due_time(suspended)
    assert (await rig.worker.tick()).done == 1
    assert rig.receiver.requests == [suspended, resumed, suspended]
    assert {(await rig.row(n))["status"] for n in (suspended, resumed)} == {"delivered"}


async def test_max_attempts_trips_even_when_no_outcome_is_ever_recorded(rig: Rig) -> None:
    notice = await rig.queue("review_requested")
    rig.lose_the_database_while_sending(times=100)
    for _ in range(RETRY.max_attempts):
        await rig.tick_losing_the_outcome()
        await rig.at_due_time(notice)
    # attempts used up: claimed, recorded failed, not sent
    assert (await rig.worker.tick()).done == 1
    assert rig.receiver.requests == [notice] * RETRY.max_attempts
    failed = await rig.row(notice)
    assert (failed["status"], failed["attempts"]) == ("failed", RETRY.max_attempts)
    [(notices, issued, _), (dead, letter, headers)] = await rig.outbox()
    assert (notices, issued["delivery"], issued["attempts"]) == ("notices", "failed", 3)
    assert (dead, letter["notice_id"]) == ("dead-letters", notice)
    assert (rig.counted("delivered"), rig.counted("failed")) == (0, 1)
    assert headers["x-error"] == (
        "notice not delivered after 3 attempt(s): no outcome was recorded for the last attempt"
    )


async def test_a_recipient_that_always_fails_gets_exactly_max_attempts_sends(rig: Rig) -> None:
    notice = await rig.queue("cancelled")
    rig.receiver.always_fail = True
    for _ in range(RETRY.max_attempts):
        assert (await rig.worker.tick()).done == 1
        row = await rig.row(notice)
        if row["status"] == "pending":
            assert row["due_at"] > rig.clock.now()  # backed off, not due at once
            await rig.at_due_time(notice)
    assert (await rig.worker.tick()).done == 0
    assert rig.receiver.requests == [notice] * RETRY.max_attempts
    assert (await rig.row(notice))["status"] == "failed"
    [(_, issued, _), (dead, _, headers)] = await rig.outbox()
    assert (issued["delivery"], issued["attempts"], dead) == ("failed", 3, "dead-letters")
    assert (
        headers["x-error"] == "notice not delivered after 3 attempt(s): webhook answered HTTP 500"
    )


async def test_failed_ticks_back_off_and_a_good_tick_ends_the_backoff(rig: Rig) -> None:
    working = rig.worker.pool
    rig.worker.pool = await create_pool(DATABASE_URL, rig.schema)
    await rig.worker.pool.close()  # the database is away
    for _ in range(4):
        with pytest.raises(asyncpg.InterfaceError):
            await rig.worker.tick()
    assert rig.pauses == [0.1, 0.2, 0.4]  # before each tick that follows a failed one
    rig.worker.pool = working
    assert (await rig.worker.tick()).done == 0
    assert (await rig.worker.tick()).done == 0
    assert rig.pauses == [0.1, 0.2, 0.4, 0.8]
