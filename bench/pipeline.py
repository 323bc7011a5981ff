"""The performance harness: clinic events through all three services, against a bare ceiling.

    .venv/bin/python -m bench.pipeline --patients 2000 --events 20000

One run, on the running local stack (`courseflow stack up`):
1. ceiling: a bare aiokafka consume-and-produce pass-through of the same messages;
2. the services as processes (`python -m services.cli run …`), configured by environment,
   with topics and a database of the run's own (dropped at the end);
3. capacity: every event sent as fast as possible; events/s until the last notice;
4. latency: new patients at a fixed rate (default half the measured capacity); p50/p95/p99
   from an event's send to its first `courseflow.notice.issued` (matched by correlation id).
Not a test: it prints figures. Processes, topics and the database are removed even on Ctrl-C.
"""

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench import report
from bench.kafka_io import LagProbe, NoticeWatcher, create_topics, delete_topics, producer, send_all
from bench.observe import CpuMeter, log_signs, published, scrape, work
from bench.passthrough import PassThroughResult, pass_through
from bench.processes import (
    ServiceGroup,
    create_database,
    drop_database,
    service_env,
    with_database,
)
from bench.stats import PhaseResult
from bench.workload import Message, generate, mix
from services import SERVICES
from services.runtime.topics import RunTopics

REPO = Path(__file__).resolve().parent.parent
POLL_S = 0.25
KAFKA_MARKER = str(REPO / ".local" / "kafka").encode()  # the stack's broker, not a test's


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--patients", type=int, default=2000)
    p.add_argument("--events", type=int, default=20000, help="clinic events in the capacity phase")
    p.add_argument("--rate", type=float, default=None,
                   help="events/s of the latency phase (default: half the capacity)")  # fmt: skip
    p.add_argument("--latency-seconds", type=float, default=30.0,
                   help="how long the fixed-rate latency phase sends")  # fmt: skip
    p.add_argument("--log-level", default="WARNING", help="COURSEFLOW_LOG_LEVEL of the services")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for the services, e.g. "
                        "COURSEFLOW_NOTIFIER_DELIVERY_POLL_INTERVAL_S=0.05")  # fmt: skip
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--bootstrap", default="127.0.0.1:59092")
    p.add_argument("--database-url", default="postgresql://courseflow@127.0.0.1:55432/courseflow",
                   help="the server to create the run's database on")  # fmt: skip
    p.add_argument("--timeout", type=float, default=600.0, help="deadline of each phase, seconds")
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--skip-ceiling", action="store_true")
    p.add_argument("--ceiling-messages", type=int, default=50000,
                   help="messages through the pass-through (the input, repeated)")  # fmt: skip
    p.add_argument("--cli", action="store_true",
                   help="run the services exactly as `courseflow run`, in the shared groups "
                        "eligibility/planner/notifier (default: the run's own groups)")  # fmt: skip
    p.add_argument("--keep-logs", action="store_true", help="keep the services' logs directory")
    p.add_argument("--soak-minutes", type=float, default=None,
                   help="soak instead: send at --rate (default 370/s) for this long, sampling "
                        "lag, outbox backlog and memory (see bench/soak.py)")  # fmt: skip
    p.add_argument("--sample-seconds", type=float, default=30.0, help="soak sampling period")
    return p


@dataclass
class Run:
    args: argparse.Namespace
    suffix: str = field(default_factory=lambda: datetime.now(UTC).strftime("%H%M%S") +
                        secrets.token_hex(3))  # fmt: skip
    database: str | None = None
    group: ServiceGroup | None = None
    topics: RunTopics | None = None

    @property
    def database_name(self) -> str:
        return f"bench_{self.suffix}"

    async def cleanup(self) -> None:
        """Idempotent: processes first (they hold connections), then the database and topics."""
        if self.group is not None:
            await asyncio.to_thread(self.group.stop)
            self.group = None
        if self.database is not None:
            with contextlib.suppress(Exception):
                await drop_database(self.args.database_url, self.database_name)
                self.database = None
        if self.topics is not None:
            with contextlib.suppress(Exception):
                await delete_topics(self.args.bootstrap, self.topics.every)
                self.topics = None


async def _drained(
    probe: LagProbe, db: asyncpg.Connection, topics: RunTopics, groups: dict[str, str]
) -> tuple[bool, bool]:
    """(inputs consumed by eligibility and planner, nothing left anywhere in the pipeline)."""
    inputs = [topics.patient_events]
    consumed = (await probe.lag(groups["eligibility"], inputs) == 0
                and await probe.lag(groups["planner"], inputs) == 0)  # fmt: skip
    if not consumed:
        return False, False
    if await probe.lag(groups["planner"], [topics.eligibility]):
        return True, False
    if await probe.lag(groups["notifier"], [topics.eligibility, topics.schedule]):
        return True, False
    # Schema names are the run's own (checked by the services: [a-z_][a-z0-9_]*).
    unsent = [f'(SELECT count(*) FROM "{schema}".outbox WHERE sent_at IS NULL)'  # noqa: S608
              for schema in groups.values()]  # fmt: skip
    due = (f'(SELECT count(*) FROM "{groups["notifier"]}".deliveries '  # noqa: S608
           "WHERE status = 'pending' AND due_at <= now())")  # fmt: skip
    pending = await db.fetchval(f"SELECT {' + '.join([*unsent, due])}")
    return True, pending == 0


async def _phase(
    *,
    run: Run, name: str, messages: list[Message], patients: int, rate: float | None,
    watcher: NoticeWatcher, probe: LagProbe, db: asyncpg.Connection,
) -> PhaseResult:  # fmt: skip
    assert run.group is not None
    assert run.topics is not None
    topics = run.topics
    urls = {s.name: s.url for s in run.group.services}
    before = await scrape(urls)
    dead_before = await probe.size(topics.dead_letters)
    notices_before = watcher.count
    logs = {s.name: s.log_path for s in run.group.services if s.log_path is not None}
    signs_before = log_signs(logs)
    cpu = CpuMeter(run.group.pids(), kafka_marker=KAFKA_MARKER)
    cpu.start()
    prod = producer(run.args.bootstrap, f"bench-clinic-{name}")
    await prod.start()
    deadline = time.perf_counter() + run.args.timeout
    start = time.perf_counter()
    try:
        sent = await send_all(prod, topics.patient_events, messages, rate=rate, deadline=deadline)
    finally:
        await prod.stop()
    send_seconds = time.perf_counter() - start
    consumed_at: float | None = None
    quiet_since: float | None = None
    while True:
        now = time.perf_counter()
        if now > deadline:
            raise TimeoutError(f"{name}: the pipeline did not drain within {run.args.timeout} s")
        run.group.check_alive()
        consumed, empty = await _drained(probe, db, topics, run.group.groups)
        if consumed and consumed_at is None:
            consumed_at = now
        settled = empty and await probe.size(topics.notices) == watcher.count
        if settled:
            quiet_since = quiet_since or now
            if now - max(quiet_since, watcher.last_seen) > 1.0:  # nothing more is coming
                break
        else:
            quiet_since = None
        await asyncio.sleep(POLL_S)
    assert consumed_at is not None
    used, others, busy = cpu.stop()
    after = await scrape(urls)
    latencies = [1000 * (watcher.first[c] - t) for c, t in sent.items() if c in watcher.first]
    end = max(consumed_at, watcher.last_seen)
    return PhaseResult(
        name=name, events=len(messages), patients=patients, target_rate=rate,
        send_seconds=send_seconds, consumed_seconds=consumed_at - start,
        end_seconds=end - start, latencies_ms=latencies,
        notices=watcher.count - notices_before,
        dead_letters=await probe.size(topics.dead_letters) - dead_before,
        work=work(before, after), published=published(before, after), cpu=used,
        machine_busy=busy, others_cpu=others, load=os.getloadavg()[0],
        log_signs={
            service: {k: n - signs_before[service][k] for k, n in counts.items()}
            for service, counts in log_signs(logs).items()
        },
    )  # fmt: skip


async def start_services(run: Run) -> Path:
    """The run's topics and database, then the three services as processes, healthy."""
    args = run.args
    run.topics = RunTopics.under(f"bench.{run.suffix}")
    await create_topics(args.bootstrap, run.topics.every, args.partitions)
    run.database = run.database_name
    database_url = await create_database(args.database_url, run.database_name)
    overrides = dict(item.split("=", 1) for item in args.env)
    env = service_env(
        bootstrap=args.bootstrap, database_url=database_url, topics=run.topics,
        log_level=args.log_level,
        overrides={"COURSEFLOW_TOPIC_PARTITIONS": str(args.partitions), **overrides},
    )  # fmt: skip
    run_dir = Path(tempfile.gettempdir()) / f"courseflow-bench-{run.suffix}"
    groups = {s: s if args.cli else f"{s}_{run.suffix}" for s in SERVICES}
    run.group = ServiceGroup(env, run_dir, groups)
    run.group.start()
    print(f"services starting (logs in {run_dir}) …", flush=True)
    await run.group.wait_healthy(120)
    return run_dir


def remove_logs(run_dir: Path) -> None:
    for log in run_dir.glob("*.log"):
        log.unlink()
    with contextlib.suppress(OSError):
        run_dir.rmdir()


async def _main(run: Run) -> int:
    args = run.args
    print(f"bench run {run.suffix}: {args.patients} patients, {args.events} events "
          f"(load {os.getloadavg()[0]:.2f})")  # fmt: skip
    capacity_messages = generate(args.patients, args.events, seed=args.seed, run=f"{run.suffix}a")
    print("event mix:", ", ".join(f"{t.removeprefix('clinic.')} {n}"
                                  for t, n in mix(capacity_messages).most_common()))  # fmt: skip

    ceiling: PassThroughResult | None = None
    if not args.skip_ceiling:
        print("ceiling: bare aiokafka pass-through …", flush=True)
        # At least --ceiling-messages (the input, repeated): a sub-second timing says little.
        count = max(args.ceiling_messages, len(capacity_messages))
        repeated = (capacity_messages * -(-count // len(capacity_messages)))[:count]
        ceiling = await pass_through(
            args.bootstrap, run.suffix, repeated, partitions=args.partitions,
            max_records=500, timeout_s=args.timeout, kafka_marker=KAFKA_MARKER,
        )  # fmt: skip
        print(f"  {ceiling.rate:,.0f} messages/s in {ceiling.seconds:.1f} s; CPU: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in ceiling.cpu.items() if v > 0))  # fmt: skip

    run_dir = await start_services(run)
    assert run.topics is not None
    watcher = NoticeWatcher(args.bootstrap, run.topics.notices)
    probe = LagProbe(args.bootstrap)
    db = await asyncpg.connect(with_database(args.database_url, run.database_name))
    await watcher.start()
    await probe.start()
    try:
        # Warm-up (not reported): consumer groups settle, pools and caches fill.
        warm = generate(20, 200, seed=args.seed + 2, run=f"{run.suffix}w")
        print("warm-up: 200 events …", flush=True)
        await _phase(run=run, name="warm-up", messages=warm, patients=20, rate=None,
                     watcher=watcher, probe=probe, db=db)  # fmt: skip
        print("capacity: sending as fast as possible …", flush=True)
        capacity = await _phase(
            run=run, name="capacity", messages=capacity_messages, patients=args.patients,
            rate=None, watcher=watcher, probe=probe, db=db,
        )  # fmt: skip
        report.phase(capacity)
        rate = args.rate or round(capacity.pipeline_rate / 2)
        per_patient = max(args.events // args.patients, 2)
        events = max(int(rate * args.latency_seconds), per_patient)
        patients = max(events // per_patient, 1)
        messages = generate(patients, patients * per_patient, seed=args.seed + 1,
                            run=f"{run.suffix}b")  # fmt: skip
        print(f"latency: {len(messages)} events at {rate:,.0f}/s …", flush=True)
        latency = await _phase(
            run=run, name="latency", messages=messages, patients=patients, rate=rate,
            watcher=watcher, probe=probe, db=db,
        )  # fmt: skip
        report.phase(latency)
    finally:
        await watcher.stop()
        await probe.stop()
        await db.close()
    report.summary(args, capacity, latency, ceiling, watcher)
    if not args.keep_logs:
        remove_logs(run_dir)
    return 0


async def _guarded(run: Run) -> int:
    from bench import soak  # noqa: PLC0415 - soak imports this module

    try:
        return await (soak.soak(run) if run.args.soak_minutes else _main(run))
    finally:
        await run.cleanup()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.chdir(REPO)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    run = Run(args)
    try:
        return asyncio.run(_guarded(run))
    except KeyboardInterrupt:
        print("interrupted; processes, topics and the database were removed")
        return 130
    finally:  # if the event loop itself was torn down, still stop processes and drop the DB
        if run.group is not None:
            run.group.stop()
        if run.database is not None or run.topics is not None:
            with contextlib.suppress(Exception):
                asyncio.run(run.cleanup())


if __name__ == "__main__":
    raise SystemExit(main())
