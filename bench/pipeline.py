"""The performance harness: clinic events through all three services, against a bare ceiling.

    .venv/bin/python -m bench.pipeline --patients 1000 --events 10000 --rate 1000:30 --rate 5:60

One run, on the running local stack (`courseflow stack up`; its ports from COURSEFLOW_KAFKA_PORT
and COURSEFLOW_PG_PORT):
1. ceiling: a bare aiokafka consume-and-produce pass-through of the same messages;
2. the services as processes (`python -m services.cli run …`, --replicas of each), configured
   by environment, with topics and a database of the run's own (dropped at the end); with
   --durable on a PostgreSQL cluster of the run's own with fsync and synchronous_commit on;
3. capacity: every event sent as fast as possible; events/s until the last notice;
4. latency: new patients at each fixed --rate (default half the measured capacity); p50/p95/p99
   from an event's send to its first `courseflow.notice.issued` (matched by correlation id);
   then the capacity of a workload with rosters (issue 14): the same events for patients of
   --roster-clinics clinics of --roster-therapists therapists each, whose rosters are sent on
   the staff topic first; --roster-rounds pairs of the two, in turn, in the same conditions;
5. idle: the CPU of every process for --idle-seconds without traffic, once all has drained;
6. a table of the figures against the targets of issues 13 and 14, peak RSS of each service
   included.
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
from bench.durable import DurableCluster, durability, is_durable
from bench.kafka_io import LagProbe, NoticeWatcher, create_topics, delete_topics, producer, send_all
from bench.observe import (
    CpuMeter,
    by_service,
    log_signs,
    peak_rss_kib,
    postmaster_pid,
    published,
    scrape,
    work,
)
from bench.passthrough import PassThroughResult, pass_through
from bench.processes import (
    ServiceGroup,
    create_database,
    drop_database,
    service_env,
    with_database,
)
from bench.stats import IdleResult, PhaseResult
from bench.workload import (
    OUTCOMES,
    PLANNER_CLOCK_OFFSET_DAYS,
    Message,
    generate,
    mix,
    rostered_clinics,
    rosters,
)
from services import SERVICES
from services.runtime.topics import RunTopics
from services.stack.kafka import KafkaStack
from services.stack.postgres import PostgresStack

REPO = Path(__file__).resolve().parent.parent
POLL_S = 0.25


@dataclass(frozen=True, slots=True)
class RatePhase:
    """`--rate 1000` or `--rate 5:60`: events per second, and for how many seconds."""

    rate: float
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> "RatePhase":
        rate, _, seconds = text.partition(":")
        phase = cls(float(rate), float(seconds) if seconds else None)
        if phase.rate <= 0 or (phase.seconds is not None and phase.seconds <= 0):
            raise argparse.ArgumentTypeError(f"{text}: rate and seconds must be positive")
        return phase


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--patients", type=int, default=2000)
    p.add_argument("--events", type=int, default=20000, help="clinic events in the capacity phase")
    p.add_argument("--rate", type=RatePhase.parse, action="append", default=[],
                   metavar="RATE[:SECONDS]",
                   help="a fixed-rate latency phase: events/s, and for how long (default "
                        "--latency-seconds); repeat for several phases, e.g. --rate 1000:30 "
                        "--rate 5:60 (default: one phase at half the capacity)")  # fmt: skip
    p.add_argument("--latency-seconds", type=float, default=30.0,
                   help="seconds of a fixed-rate phase whose --rate names none")  # fmt: skip
    p.add_argument("--idle-seconds", type=float, default=60.0,
                   help="after the phases, CPU of every process with no traffic for this long "
                        "(0: no idle phase)")  # fmt: skip
    p.add_argument("--capacity-only", action="store_true",
                   help="the capacity phase alone: no fixed-rate phase, no idle phase")  # fmt: skip
    p.add_argument("--roster-rounds", type=int, default=2,
                   help="pairs of capacity phases without and with rosters, in turn: the "
                        "first without is the capacity phase (0: none with rosters)")  # fmt: skip
    p.add_argument(
        "--roster-clinics",
        type=int,
        default=10,
        help="clinics of the workload with rosters; its patients are spread over them",
    )
    p.add_argument("--roster-therapists", type=int, default=5, help="therapists per clinic")
    p.add_argument(
        "--outcomes",
        choices=OUTCOMES,
        default="daily",
        help="the day each session is performed: 'daily', session n on the course's day n "
        "whatever its plan (most outcomes move the rest of the course); 'on-plan', on the day "
        "its plan gave it (bench/workload.py)",
    )
    p.add_argument("--replicas", type=int, default=1,
                   help="processes of each service, in one consumer group")  # fmt: skip
    p.add_argument("--durable", action="store_true",
                   help="the run's database on a PostgreSQL cluster of its own with fsync, "
                        "full_page_writes and synchronous_commit on (bench/durable.py), "
                        "instead of --database-url")  # fmt: skip
    p.add_argument("--log-level", default="WARNING", help="COURSEFLOW_LOG_LEVEL of the services")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for the services, e.g. "
                        "COURSEFLOW_NOTIFIER_DELIVERY_POLL_INTERVAL_S=0.05")  # fmt: skip
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--bootstrap", default=None,
                   help="default: the local stack's broker (COURSEFLOW_KAFKA_PORT)")  # fmt: skip
    p.add_argument("--database-url", default=None,
                   help="the server to create the run's database on (default: the local "
                        "stack's cluster, COURSEFLOW_PG_PORT, or DATABASE_URL)")  # fmt: skip
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
                   help="soak instead: send at the first --rate (default 370/s) for this long, "
                        "sampling lag, outbox backlog and memory (see bench/soak.py)")  # fmt: skip
    p.add_argument("--sample-seconds", type=float, default=30.0, help="soak sampling period")
    return p


def _with_stack_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """The local stack's addresses, from the same environment `courseflow stack up` reads."""
    args.bootstrap = args.bootstrap or KafkaStack.from_env().bootstrap_servers
    args.database_url = args.database_url or PostgresStack.from_env().url
    if args.replicas < 1:
        raise SystemExit("--replicas must be at least 1")
    if args.roster_rounds and min(args.roster_clinics, args.roster_therapists) < 1:
        raise SystemExit("--roster-clinics and --roster-therapists must be at least 1")
    return args


@dataclass
class Run:
    args: argparse.Namespace
    suffix: str = field(default_factory=lambda: datetime.now(UTC).strftime("%H%M%S") +
                        secrets.token_hex(3))  # fmt: skip
    database: str | None = None
    group: ServiceGroup | None = None
    topics: RunTopics | None = None
    cluster: DurableCluster | None = None  # --durable
    postmaster: int | None = None  # of the server the run's database is on, if local
    durability: dict[str, str] = field(default_factory=dict)

    @property
    def database_name(self) -> str:
        return f"bench_{self.suffix}"

    @property
    def server_url(self) -> str:
        return self.cluster.postgres.url if self.cluster else str(self.args.database_url)

    @property
    def kafka_marker(self) -> bytes:
        """In the stack's broker's command line, and not in a test's broker's."""
        return str(KafkaStack.from_env().home.resolve()).encode()

    def cpu_meter(self) -> CpuMeter:
        assert self.group is not None
        return CpuMeter(self.group.pids(), kafka_marker=self.kafka_marker,
                        postmaster=self.postmaster)  # fmt: skip

    def peak_rss(self) -> dict[str, int]:
        assert self.group is not None
        return {label: peak_rss_kib(pid) for label, pid in self.group.pids().items()}

    async def cleanup(self) -> None:
        """Idempotent: processes first (they hold connections), then the database and topics."""
        if self.group is not None:
            await asyncio.to_thread(self.group.stop)
            self.group = None
        if self.database is not None:
            with contextlib.suppress(Exception):
                await drop_database(self.server_url, self.database_name)
                self.database = None
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.remove)
            self.cluster = None
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
    if await probe.lag(groups["planner"], [topics.eligibility, topics.planner_commands]):
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
    urls = run.group.urls()
    before = by_service(await scrape(urls))
    dead_before = await probe.size(topics.dead_letters)
    notices_before = watcher.count
    logs = run.group.logs()
    signs_before = log_signs(logs)
    cpu = run.cpu_meter()
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
    after = by_service(await scrape(urls))
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
        peak_rss_kib=run.peak_rss(),
    )  # fmt: skip


async def _send_rosters(run: Run, clinics: tuple[str, ...], probe: LagProbe) -> None:
    """The clinics' rosters on the staff topic, consumed by the planner (not measured)."""
    assert run.group is not None
    assert run.topics is not None
    args = run.args
    messages = rosters(clinics, args.roster_therapists)
    print(f"rosters: {len(clinics)} clinics x {args.roster_therapists} therapists …", flush=True)
    prod = producer(args.bootstrap, "bench-roster")
    await prod.start()
    deadline = time.perf_counter() + args.timeout
    try:
        await send_all(prod, run.topics.staff_events, messages, rate=None, deadline=deadline)
    finally:
        await prod.stop()
    while await probe.lag(run.group.groups["planner"], [run.topics.staff_events]):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the planner did not read the rosters within {args.timeout} s")
        run.group.check_alive()
        await asyncio.sleep(POLL_S)


async def _roster_rounds(
    run: Run, capacity: PhaseResult, watcher: NoticeWatcher, probe: LagProbe,
    db: asyncpg.Connection,
) -> list[report.RosterRound]:  # fmt: skip
    """Capacity without and with rosters, in turn; the first without is `capacity`. Each
    phase has patients (and each with-rosters phase clinics) of its own, the same scripts."""
    args = run.args
    rounds: list[report.RosterRound] = []
    without = capacity
    for number in range(1, args.roster_rounds + 1):
        if number > 1:
            messages = generate(args.patients, args.events, seed=args.seed,
                                run=f"{run.suffix}a{number}", outcomes=args.outcomes)  # fmt: skip
            print(f"capacity without rosters, round {number} …", flush=True)
            without = await _phase(
                run=run, name=f"capacity-{number}", messages=messages, patients=args.patients,
                rate=None, watcher=watcher, probe=probe, db=db,
            )  # fmt: skip
            report.phase(without)
        clinics = rostered_clinics(f"{run.suffix}{number}", args.roster_clinics)
        await _send_rosters(run, clinics, probe)
        messages = generate(args.patients, args.events, seed=args.seed,
                            run=f"{run.suffix}k{number}", clinics=clinics,
                            outcomes=args.outcomes)  # fmt: skip
        print(f"capacity with rosters, round {number}: sending as fast as possible …", flush=True)
        with_rosters = await _phase(
            run=run, name=f"capacity-rosters-{number}", messages=messages,
            patients=args.patients, rate=None, watcher=watcher, probe=probe, db=db,
        )  # fmt: skip
        report.phase(with_rosters)
        booked = await _bookings(db, run, clinics)
        print(f"  bookings held by the phase's clinics: {booked}", flush=True)
        rounds.append(report.RosterRound(without, with_rosters, booked))
    return rounds


async def _bookings(db: asyncpg.Connection, run: Run, clinics: tuple[str, ...]) -> int:
    """The sessions the planner placed for `clinics` (so a reader sees placement happened)."""
    assert run.group is not None
    schema = run.group.groups["planner"]
    count: int = await db.fetchval(
        f'SELECT count(*) FROM "{schema}".bookings WHERE clinic_id = ANY($1::text[])',  # noqa: S608
        list(clinics),
    )
    return count


async def _idle(run: Run, seconds: float) -> IdleResult:
    """Every process's CPU while nothing arrives (the harness holds no connection meanwhile)."""
    assert run.group is not None
    cpu = run.cpu_meter()
    cpu.start()
    start = time.perf_counter()
    while (left := start + seconds - time.perf_counter()) > 0:
        run.group.check_alive()
        await asyncio.sleep(min(left, 1.0))
    used, others, _busy = cpu.stop()
    return IdleResult(seconds=time.perf_counter() - start, cpu=used, others_cpu=others)


async def _database_server(run: Run) -> str:
    """The server of the run's database: the stack's, or with --durable one of the run's own."""
    if run.args.durable:
        run.cluster = DurableCluster.create()
        print(f"durable PostgreSQL cluster of the run's own on port {run.cluster.postgres.port} "
              "…", flush=True)  # fmt: skip
        await asyncio.to_thread(run.cluster.start)
    run.durability = await durability(run.server_url)
    if run.args.durable and not is_durable(run.durability):
        raise RuntimeError(f"--durable, but the cluster runs with {run.durability}")
    run.postmaster = await postmaster_pid(with_database(run.server_url, "postgres"))
    return run.server_url


async def start_services(run: Run) -> Path:
    """The run's topics and database, then the three services as processes, healthy."""
    args = run.args
    server = await _database_server(run)
    run.topics = RunTopics.under(f"bench.{run.suffix}")
    await create_topics(args.bootstrap, run.topics.every, args.partitions)
    run.database = run.database_name
    database_url = await create_database(server, run.database_name)
    overrides = dict(item.split("=", 1) for item in args.env)
    env = service_env(
        bootstrap=args.bootstrap, database_url=database_url, topics=run.topics,
        log_level=args.log_level,
        overrides={
            "COURSEFLOW_TOPIC_PARTITIONS": str(args.partitions),
            "COURSEFLOW_PLANNER_CLOCK_OFFSET_DAYS": str(PLANNER_CLOCK_OFFSET_DAYS),
            **overrides,
        },
    )  # fmt: skip
    run_dir = Path(tempfile.gettempdir()) / f"courseflow-bench-{run.suffix}"
    groups = {s: s if args.cli else f"{s}_{run.suffix}" for s in SERVICES}
    run.group = ServiceGroup(env, run_dir, groups, replicas=args.replicas)
    run.group.start()
    print(f"services starting ({args.replicas} of each; logs in {run_dir}) …", flush=True)
    await run.group.wait_healthy(120)
    return run_dir


def remove_logs(run_dir: Path) -> None:
    for log in run_dir.glob("*.log"):
        log.unlink()
    with contextlib.suppress(OSError):
        run_dir.rmdir()


def _rate_phases(args: argparse.Namespace, capacity: PhaseResult) -> list[RatePhase]:
    if args.capacity_only:
        return []
    phases = args.rate or [RatePhase(round(capacity.pipeline_rate / 2))]
    return [RatePhase(p.rate, p.seconds or args.latency_seconds) for p in phases]


def _rate_messages(run: Run, phase: RatePhase, number: int) -> tuple[list[Message], int]:
    """New patients, as many events per patient as the capacity phase, for the phase's time."""
    args = run.args
    assert phase.seconds is not None
    per_patient = max(args.events // args.patients, 2)
    events = max(int(phase.rate * phase.seconds), per_patient)
    patients = max(events // per_patient, 1)
    messages = generate(patients, patients * per_patient, seed=args.seed + number,
                        run=f"{run.suffix}r{number}", outcomes=args.outcomes)  # fmt: skip
    return messages, patients


async def _ceiling(run: Run, capacity_messages: list[Message]) -> PassThroughResult:
    args = run.args
    print("ceiling: bare aiokafka pass-through …", flush=True)
    # At least --ceiling-messages (the input, repeated): a sub-second timing says little.
    count = max(args.ceiling_messages, len(capacity_messages))
    repeated = (capacity_messages * -(-count // len(capacity_messages)))[:count]
    ceiling = await pass_through(
        args.bootstrap, run.suffix, repeated, partitions=args.partitions,
        max_records=500, timeout_s=args.timeout, kafka_marker=run.kafka_marker,
    )  # fmt: skip
    print(f"  {ceiling.rate:,.0f} messages/s in {ceiling.seconds:.1f} s; CPU: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in ceiling.cpu.items() if v > 0))  # fmt: skip
    return ceiling


async def _main(run: Run) -> int:
    args = run.args
    print(f"bench run {run.suffix}: {args.patients} patients, {args.events} events, "
          f"sessions performed {args.outcomes}, "
          f"{args.replicas} process(es) per service (load {os.getloadavg()[0]:.2f})")  # fmt: skip
    capacity_messages = generate(args.patients, args.events, seed=args.seed, run=f"{run.suffix}a",
                                 outcomes=args.outcomes)  # fmt: skip
    print("event mix:", ", ".join(f"{t.removeprefix('clinic.')} {n}"
                                  for t, n in mix(capacity_messages).most_common()))  # fmt: skip
    ceiling = None if args.skip_ceiling else await _ceiling(run, capacity_messages)

    run_dir = await start_services(run)
    print("database:", report.durability_line(run.durability), flush=True)
    assert run.topics is not None
    watcher = NoticeWatcher(args.bootstrap, run.topics.notices)
    probe = LagProbe(args.bootstrap)
    db = await asyncpg.connect(with_database(run.server_url, run.database_name))
    await watcher.start()
    await probe.start()
    fixed: list[PhaseResult] = []
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
        rounds = await _roster_rounds(run, capacity, watcher, probe, db)
        for number, rate_phase in enumerate(_rate_phases(args, capacity), start=10):
            messages, patients = _rate_messages(run, rate_phase, number)
            print(f"latency: {len(messages)} events at {rate_phase.rate:,.0f}/s …", flush=True)
            result = await _phase(
                run=run, name=f"rate-{rate_phase.rate:g}", messages=messages,
                patients=patients, rate=rate_phase.rate, watcher=watcher, probe=probe, db=db,
            )  # fmt: skip
            report.phase(result)
            fixed.append(result)
    finally:
        await watcher.stop()
        await probe.stop()
        await db.close()
    idle = None
    if args.idle_seconds > 0 and not args.capacity_only:
        print(f"idle: no traffic for {args.idle_seconds:g} s …", flush=True)
        idle = await _idle(run, args.idle_seconds)
        report.idle(idle)
    report.summary(
        report.RunInfo(
            run.suffix, args.replicas, run.durability, args.log_level, args.outcomes
        ),
        capacity=capacity, fixed=fixed, idle=idle, ceiling=ceiling, watcher=watcher,
        peak_kib=run.peak_rss(), rounds=rounds,
        roster_shape=(args.roster_clinics, args.roster_therapists),
    )  # fmt: skip
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
    os.chdir(REPO)  # before the defaults: the stack's files are under .local/ here
    args = _with_stack_defaults(args)
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
        if run.database is not None or run.topics is not None or run.cluster is not None:
            with contextlib.suppress(Exception):
                asyncio.run(run.cleanup())


if __name__ == "__main__":
    raise SystemExit(main())
