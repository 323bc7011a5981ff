"""What operators see of a running service: /health, Prometheus /metrics, JSON log lines."""

import asyncio
import json
import os
import uuid
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.runtime.collector import OLDER_EVERY
from services.runtime.db import migrate
from services.runtime.launcher import ServiceProcess, courseflow_command, free_port
from services.runtime.topics import ensure_topics
from tests.clinic_events import ClinicFeed, wire
from tests.integration.conftest import DATABASE_URL, as_service
from tests.integration.kafka_io import eventually, produce, read_until


async def test_health_and_metrics_of_a_running_service(bootstrap: str, suffix: str) -> None:
    port = free_port()
    env = {f"COURSEFLOW_ELIGIBILITY_{name.upper()}": value for name, value in {
        "topic_patient_events": f"clinic-{suffix}", "topic_eligibility": f"elig-{suffix}",
        "topic_dead_letters": f"dead-{suffix}", "http_port": str(port),
    }.items()}  # fmt: skip
    await ensure_topics(bootstrap, [f"clinic-{suffix}"], partitions=2)
    feed = ClinicFeed()
    for event in (feed.enrolled(datetime.now(UTC).date()),):
        key, value = wire(event)
        await produce(bootstrap, f"clinic-{suffix}", value, key=key)
    await produce(bootstrap, f"clinic-{suffix}", b"not an event", key=b"P-1")

    async with (
        ServiceProcess("eligibility", as_service("eligibility", env)).running(),
        httpx.AsyncClient() as http,
    ):
        base = f"http://127.0.0.1:{port}"

        async def healthy() -> bool:
            try:
                return (await http.get(f"{base}/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, timeout_s=60)

        async def counted() -> str | None:
            text = (await http.get(f"{base}/metrics")).text
            return text if 'outcome="dead_letter"' in text and 'outcome="handled"' in text else None

        metrics = await eventually(counted, timeout_s=30)
    labels = f'outcome="handled",service="eligibility",topic="clinic-{suffix}"'
    assert f"courseflow_messages_total{{{labels}}} 1.0" in metrics
    assert "courseflow_consumer_lag" in metrics
    assert "courseflow_outbox_backlog" in metrics


async def test_a_service_run_by_the_cli_runs_on_uvloop_and_collects_garbage_less_often(
    suffix: str, tmp_path: Path
) -> None:
    env = {"COURSEFLOW_LOG_FORMAT": "json", **{
        f"COURSEFLOW_NOTIFIER_{name.upper()}": value for name, value in {
            "topic_schedule": f"sched-{suffix}", "topic_eligibility": f"elig-{suffix}",
            "topic_notices": f"notices-{suffix}", "topic_dead_letters": f"dead-{suffix}",
            "http_port": "0",
        }.items()
    }}  # fmt: skip
    log = tmp_path / "notifier.log"
    async with ServiceProcess("notifier", as_service("notifier", env), log_path=log).running():
        loops = await eventually(lambda: _event_loops_logged(log), timeout_s=60)
    assert loops == [{
        "event": "event loop", "event_loop": "uvloop.Loop", "service": "notifier",
        "gc_threshold": [50_000, OLDER_EVERY, OLDER_EVERY],
    }]  # fmt: skip


def _event_loops_logged(log: Path) -> list[dict[str, Any]] | None:
    """The "event loop" lines logged, once the service says it started (else None)."""
    loops = []
    lines = log.read_bytes().splitlines() if log.exists() else []
    for line in lines:
        if not line.startswith(b"{"):
            continue  # aiokafka's own log lines (rebalancing ...) are plain text
        entry = json.loads(line)
        if entry["event"] == "event loop":
            loops.append({k: entry[k] for k in ("event", "event_loop", "service", "gc_threshold")})
        if entry["event"] == "started":
            return loops
    return None


async def test_dead_letter_listed_then_replayed_after_its_cause_is_fixed(
    bootstrap: str, suffix: str
) -> None:
    from tests.integration.test_planner_support import (  # noqa: PLC0415
        D,
        new_patient,
        started_planner,
        types,
    )

    env = {"COURSEFLOW_TOPIC_DEAD_LETTERS": f"dead-{suffix}"}
    feed, _ = new_patient()
    async with started_planner(bootstrap, suffix) as planner:
        first = {"session_id": "C1-s01", "on": D.isoformat()}
        await planner.send(feed.enrolled(D), feed.not_performed(first, "severe_pain"))
        dead = await planner.dead_letters()  # its course is not prescribed yet
        position = f"{dead[0].partition}:{dead[0].offset}"

        listed = await output_of(courseflow_command("dead-letters", "list"), env)
        assert f"{position} " in listed
        assert "unknown course" in listed
        assert "1 dead letters" in listed

        await planner.send(feed.prescription(D))
        assert types(await planner.published(feed.patient)) == ["scheduled"]
        replayed = await output_of(courseflow_command("dead-letters", "replay", position), env)
        assert "replayed 1 dead letters" in replayed

        async def moved_to_the_end() -> bool:
            return types(await planner.published(feed.patient)) == ["scheduled", "rescheduled"]

        await eventually(moved_to_the_end, timeout_s=20)


async def output_of(argv: list[str], env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    return stdout.decode()


async def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env={**os.environ, **env}, stdout=PIPE, stderr=PIPE
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, stdout.decode(), stderr.decode()


def letter_headers(source_topic: str | None, consumer: str, offset: int) -> list[tuple[str, bytes]]:
    headers = {"x-error": "unknown patient", "x-consumer": consumer,
               "x-source-partition": "0", "x-source-offset": str(offset)}  # fmt: skip
    if source_topic is not None:
        headers["x-source-topic"] = source_topic
    return [(name, value.encode()) for name, value in headers.items()]


async def test_replay_sends_each_original_record_once(bootstrap: str, suffix: str) -> None:
    source, dead = f"src-{suffix}", f"dead-{suffix}"
    await ensure_topics(bootstrap, [source, dead], partitions=1)
    # Both consumers of the clinic topic dead-letter the same original record (offset 7).
    for consumer in ("eligibility", "planner"):
        await produce(bootstrap, dead, b"original", key=b"P-1",
                      headers=letter_headers(source, consumer, 7))  # fmt: skip
    await produce(bootstrap, dead, b"another", key=b"P-2",
                  headers=letter_headers(source, "eligibility", 8))  # fmt: skip
    env = {"COURSEFLOW_TOPIC_DEAD_LETTERS": dead}

    first = await run_cli(courseflow_command("dead-letters", "replay", "--all"), env)
    again = await run_cli(courseflow_command("dead-letters", "replay", "--all"), env)

    assert first[0] == 0, first
    assert "replayed 2 dead letters" in first[1]
    assert again[0] == 0, again
    assert "replayed 0 dead letters" in again[1]
    assert "3 already replayed" in again[1]
    copies = await read_until(bootstrap, source, lambda rs: len(rs) >= 3, timeout_s=5)
    assert sorted(bytes(r.value) for r in copies) == [b"another", b"original"]
    origins = {dict(r.headers)["x-replayed-from"] for r in copies}
    assert origins == {f"{source}/0@7".encode(), f"{source}/0@8".encode()}


async def test_a_letter_without_a_known_source_topic_is_refused(
    bootstrap: str, suffix: str
) -> None:
    source, dead = f"src-{suffix}", f"dead-{suffix}"
    await ensure_topics(bootstrap, [source, dead], partitions=1)
    await produce(bootstrap, dead, b"no source", headers=letter_headers(None, "planner", 1))
    await produce(bootstrap, dead, b"gone", headers=letter_headers(f"gone-{suffix}", "planner", 2))
    await produce(bootstrap, dead, b"fine", headers=letter_headers(source, "planner", 3))

    code, out, err = await run_cli(
        courseflow_command("dead-letters", "replay", "--all"),
        {"COURSEFLOW_TOPIC_DEAD_LETTERS": dead},
    )

    assert code == 1, (out, err)
    assert "0:0 refused: the dead letter names no source topic (x-source-topic)" in err
    assert f"0:1 refused: unknown source topic gone-{suffix}" in err
    assert "replayed 1 dead letters" in out
    copies = await read_until(bootstrap, source, lambda rs: len(rs) >= 1, timeout_s=5)
    assert [bytes(r.value) for r in copies] == [b"fine"]


NOTIFIER_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "notifier" / "migrations"


async def add_delivery(
    conn: asyncpg.Connection,
    status: str,
    *,
    days_ago: int | None,
    carried_by: uuid.UUID | None = None,
) -> uuid.UUID:
    """A notifier delivery finished `days_ago` days ago (None: not finished)."""
    notice_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO notifier.deliveries (notice_id, cause_id, kind, recipient, channel, family,"
        " patient_id, summary, rules, source_topic, source_partition, source_offset, status,"
        " due_at, carried_by, finished_at) VALUES ($1, $2, 'k', 'r', 'log', 'f', 'P-1', 's',"
        " '{}', 't', 0, 0, $3, now(), $4, now() - make_interval(days => $5))",
        notice_id, str(notice_id), status, carried_by, days_ago,
    )  # fmt: skip
    return notice_id


async def test_db_prune_deletes_only_rows_past_their_retention(suffix: str) -> None:
    database = f"prune_{suffix}"
    admin = await asyncpg.connect(DATABASE_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = DATABASE_URL.rsplit("/", 1)[0] + f"/{database}"
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "eligibility")
        await migrate(conn, "notifier", [NOTIFIER_MIGRATIONS])
        for schema in ("eligibility", "notifier"):
            await conn.execute(
                f"INSERT INTO {schema}.inbox (consumer, source, event_id, received_at)"
                " SELECT 'c', 's', 'old-' || n, now() - interval '40 days'"
                " FROM generate_series(1, 5) n"
                " UNION ALL SELECT 'c', 's', 'new-' || n, now() - interval '2 days'"
                " FROM generate_series(1, 2) n"
            )
            await conn.execute(
                f"INSERT INTO {schema}.outbox (topic, value, created_at, sent_at) VALUES"
                " ('t', 'old sent', now() - interval '9 days', now() - interval '9 days'),"
                " ('t', 'new sent', now() - interval '1 day', now() - interval '1 day'),"
                " ('t', 'old unsent', now() - interval '9 days', NULL)"
            )
        carrier = await add_delivery(conn, "delivered", days_ago=40)
        await add_delivery(conn, "delivered", days_ago=40, carried_by=carrier)
        await add_delivery(conn, "failed", days_ago=40)
        await add_delivery(conn, "delivered", days_ago=3)
        await add_delivery(conn, "pending", days_ago=None)
        env = {"COURSEFLOW_PRUNE_BATCH_SIZE": "2"}

        code, out, err = await run_cli(courseflow_command("db", "prune", "--admin-url", url), env)
        again = await run_cli(courseflow_command("db", "prune", "--admin-url", url), env)

        assert code == 0, err
        assert "eligibility.inbox: deleted 2 (2 so far)" in out  # bounded batches, progress
        assert "eligibility.inbox: 5 rows older than 30 days deleted" in out
        assert "notifier.outbox: 1 rows older than 7 days deleted" in out
        assert "notifier.deliveries: 3 rows older than 30 days deleted" in out
        for schema in ("eligibility", "notifier"):
            inbox = await conn.fetch(f"SELECT event_id FROM {schema}.inbox ORDER BY 1")
            assert [r["event_id"] for r in inbox] == ["new-1", "new-2"]
            outbox = await conn.fetch(f"SELECT value FROM {schema}.outbox ORDER BY id")
            assert [bytes(r["value"]) for r in outbox] == [b"new sent", b"old unsent"]
        kept = await conn.fetch("SELECT status FROM notifier.deliveries ORDER BY status")
        assert [r["status"] for r in kept] == ["delivered", "pending"]
        assert again[0] == 0, again
        assert "0 rows older than" in again[1]
        assert "deleted 1" not in again[1]

        shorter = await run_cli(
            courseflow_command("db", "prune", "--admin-url", url, "--older-than", "1"), {}
        )
        assert "notifier.deliveries: 1 rows older than 1 days deleted" in shorter[1]
    finally:
        await conn.close()
