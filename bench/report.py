"""Printing the figures."""

import sys
from dataclasses import dataclass

from bench.durable import is_durable
from bench.kafka_io import NoticeWatcher
from bench.observe import HARNESS, KAFKA, POSTGRES
from bench.passthrough import PassThroughResult
from bench.processes import service_of
from bench.stats import IdleResult, PhaseResult
from services import SERVICES

# The targets of issue 13.
TARGET_RATE = 2000.0  # clinic events/s through all three services
TARGET_P99_MS = 250.0  # clinic event → notice, at a fixed rate the phase keeps up with
TARGET_IDLE_CORE = 0.02  # the three services together, as a share of one core
TARGET_CPU_MS = 1.0  # per clinic event, all processes together
TARGET_RSS_MIB = 150.0  # each service process
# Issue 14: planning with capacity (rosters) costs at most this share of the throughput.
TARGET_ROSTER_COST = 0.25
WIDTH = 104


@dataclass(frozen=True, slots=True)
class RunInfo:
    suffix: str
    replicas: int
    durability: dict[str, str]
    log_level: str
    outcomes: str = "daily"  # the day each session is performed (`bench.workload.OUTCOMES`)


@dataclass(frozen=True, slots=True)
class RosterRound:
    """Two capacity phases of the same scripts, one after the other: without and with rosters."""

    without: PhaseResult
    with_rosters: PhaseResult
    bookings: int = 0  # held at the end of the with-rosters phase: the sessions it placed


def _rate_of(results: list[PhaseResult]) -> float:
    """Events of all `results` over their time together (a slow phase weighs its time)."""
    seconds = sum(r.end_seconds for r in results)
    return sum(r.events for r in results) / seconds if seconds else 0.0


def roster_cost(rounds: list[RosterRound]) -> float:
    """The share of the throughput without rosters that the rosters cost."""
    without = _rate_of([r.without for r in rounds])
    return 1 - _rate_of([r.with_rosters for r in rounds]) / without if without else 0.0


def durability_line(settings: dict[str, str]) -> str:
    kind = "durable" if is_durable(settings) else "throwaway, NOT durable"
    return f"{kind} ({', '.join(f'{k} {v}' for k, v in settings.items())})"


def _latency_line(result: PhaseResult) -> str:
    if not result.latencies_ms:
        return "no notices matched"
    return (f"p50 {result.latency(50):,.0f} ms · p95 {result.latency(95):,.0f} ms · "
            f"p99 {result.latency(99):,.0f} ms · max {result.latency(100):,.0f} ms "
            f"({len(result.latencies_ms)} of {result.events} events caused a notice)")  # fmt: skip


def phase(result: PhaseResult) -> None:
    target = f" (target {result.target_rate:,.0f}/s)" if result.target_rate else ""
    print(f"  sent {result.events} events in {result.send_seconds:.1f} s "
          f"= {result.send_rate:,.0f}/s{target}")  # fmt: skip
    print(f"  inputs consumed by eligibility and planner after {result.consumed_seconds:.1f} s "
          f"= {result.input_rate:,.0f} events/s")  # fmt: skip
    print(f"  last notice after {result.end_seconds:.1f} s = {result.pipeline_rate:,.0f} events/s "
          f"through all three services; {result.notices} notices, "
          f"{result.dead_letters} dead letters")  # fmt: skip
    print(f"  latency event → first notice: {_latency_line(result)}")
    print("  handler work (one DB transaction per consumed batch; replicas added up):")
    for w in result.work:
        busy = w.handler_seconds / result.end_seconds if result.end_seconds else 0
        topic = "+".join(name.rsplit(".", 1)[-1] for name in w.topic.split(","))
        print(f"    {w.service:<11} {topic:<14} {w.messages:>7.0f} msgs ({w.duplicates:.0f} dup)"
              f" {w.batches:>5.0f} batches avg {w.batch_size:>5.1f}/batch"
              f" {w.ms_per_message:>6.2f} ms/msg in tx, busy {busy:>4.0%}")  # fmt: skip
    print("  published by the outbox relays:",
          ", ".join(f"{k} {v:.0f}" for k, v in result.published.items()))  # fmt: skip
    span = result.end_seconds or 1.0
    print(f"  CPU during the phase: {result.cpu_ms_per_event:.1f} ms per clinic event in all "
          f"processes; machine busy {result.machine_busy:.0%} of all cores")  # fmt: skip
    for name, seconds in sorted(result.cpu.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<24} {seconds:>7.1f} s  = {seconds / span:>4.0%} of one core, "
              f"{result.cpu_ms_per_event_of(name):>5.2f} ms per clinic event")  # fmt: skip
    print(
        f"    {'(not this run)':<24} {result.others_cpu:>7.1f} s  = "
        f"{result.others_cpu / span:>4.0%} of one core; load average {result.load:.2f}"
    )
    lost = {s: {k: n for k, n in c.items() if n} for s, c in result.log_signs.items()}
    print("  lost time seen in the logs:", {s: c for s, c in lost.items() if c} or "none")
    print("  peak RSS so far:", _rss_line(result.peak_rss_kib))
    sys.stdout.flush()


def _rss_line(peak_kib: dict[str, int]) -> str:
    return ", ".join(f"{label} {kib / 1024:.0f} MiB" for label, kib in peak_kib.items())


def _service_labels(cpu: dict[str, float]) -> list[str]:
    return [label for label in cpu if label not in (HARNESS, KAFKA, POSTGRES)]


def idle(result: IdleResult) -> None:
    services = _service_labels(result.cpu)
    print(f"  the services together: {result.core_share(services):.1%} of one core over "
          f"{result.seconds:.0f} s")  # fmt: skip
    for name, seconds in sorted(result.cpu.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<24} {seconds:>6.2f} s  = {seconds / result.seconds:>5.1%} of one core")
    print(f"    {'(not this run)':<24} {result.others_cpu:>6.2f} s  = "
          f"{result.others_cpu / result.seconds:>5.1%} of one core")  # fmt: skip
    sys.stdout.flush()


def _verdict(met: bool) -> str:  # noqa: FBT001
    return "met" if met else "NOT met"


def _row(what: str, measured: str, target: str = "", verdict: str = "") -> None:
    print(f"  {what:<52} {measured:>18}  {target:<12} {verdict}".rstrip())


def _rate_row(result: PhaseResult) -> None:
    rate = result.target_rate or 0
    kept = "yes" if result.kept_up else f"NO, {result.input_rate:,.0f}/s"
    what = f"p99 event → notice at {rate:,.0f}/s (kept up: {kept})"
    if not result.latencies_ms:
        _row(what, "no notices", f"≤ {TARGET_P99_MS:.0f} ms", "NOT met")
        return
    p99 = result.latency(99)
    _row(what, f"{p99:,.0f} ms", f"≤ {TARGET_P99_MS:.0f} ms",
         _verdict(result.kept_up and p99 <= TARGET_P99_MS))  # fmt: skip
    _row(f"  from {len(result.latencies_ms)} notices; p50 · max",
         f"{result.latency(50):,.0f} · {result.latency(100):,.0f} ms")  # fmt: skip


def _cpu_rows(capacity: PhaseResult) -> None:
    ms = capacity.cpu_ms_per_event
    _row("CPU per clinic event, all processes, at capacity", f"{ms:.2f} ms",
         f"≤ {TARGET_CPU_MS:g} ms", _verdict(ms <= TARGET_CPU_MS))  # fmt: skip
    per_service = dict.fromkeys(SERVICES, 0.0)
    for label in _service_labels(capacity.cpu):
        per_service[service_of(label)] += capacity.cpu_ms_per_event_of(label)
    others = {name: capacity.cpu_ms_per_event_of(name) for name in (KAFKA, POSTGRES, HARNESS)
              if name in capacity.cpu}  # fmt: skip
    for name, value in {**per_service, **others}.items():
        _row(f"  {name}", f"{value:.2f} ms")


def _idle_rows(idle: IdleResult) -> None:
    services = _service_labels(idle.cpu)
    share = idle.core_share(services)
    _row(f"idle CPU, the services together ({idle.seconds:.0f} s, no traffic)",
         f"{share:.1%} of a core", f"≤ {TARGET_IDLE_CORE:.0%}",
         _verdict(share <= TARGET_IDLE_CORE))  # fmt: skip
    for name in (*sorted(services), KAFKA, POSTGRES):
        if name in idle.cpu:
            _row(f"  {name}", f"{idle.core_share([name]):.1%} of a core")


def _rss_rows(peak_kib: dict[str, int]) -> None:
    for label, kib in peak_kib.items():
        mib = kib / 1024
        _row(f"peak RSS of {label} (VmHWM, whole run)", f"{mib:,.0f} MiB",
             f"≤ {TARGET_RSS_MIB:.0f} MiB", _verdict(mib <= TARGET_RSS_MIB))  # fmt: skip


def _planner_ms(result: PhaseResult) -> float:
    return sum(result.cpu_ms_per_event_of(label) for label in _service_labels(result.cpu)
               if service_of(label) == "planner")  # fmt: skip


def _roster_rows(rounds: list[RosterRound], shape: tuple[int, int]) -> None:
    """Issue 14: throughput with rosters beside the same workload without, same run."""
    if not rounds:
        return
    without = _rate_of([r.without for r in rounds])
    with_rosters = _rate_of([r.with_rosters for r in rounds])
    cost = roster_cost(rounds)
    clinics, therapists = shape
    _row(f"with rosters ({clinics} clinics x {therapists} therapists), {len(rounds)} round(s)",
         f"{with_rosters:,.0f}/s")  # fmt: skip
    _row("  without rosters, the rounds beside them", f"{without:,.0f}/s")
    _row("  cost of planning with capacity (issue 14)", f"{cost:.1%}",
         f"≤ {TARGET_ROSTER_COST:.0%}", _verdict(cost <= TARGET_ROSTER_COST))  # fmt: skip
    for number, one in enumerate(rounds, start=1):
        rates = (one.without.pipeline_rate, one.with_rosters.pipeline_rate)
        _row(f"  round {number}: without · with", f"{rates[0]:,.0f} · {rates[1]:,.0f}/s")
        _row(f"  round {number}: bookings held after the phase with rosters", f"{one.bookings:,}")
    for name, results in (("without", [r.without for r in rounds]),
                          ("with", [r.with_rosters for r in rounds])):  # fmt: skip
        cpu = sum(r.cpu_ms_per_event for r in results) / len(results)
        planner = sum(_planner_ms(r) for r in results) / len(results)
        _row(f"  CPU per clinic event {name} rosters: all · planner",
             f"{cpu:.2f} · {planner:.2f} ms")  # fmt: skip


def summary(
    info: RunInfo, *, capacity: PhaseResult, fixed: list[PhaseResult], idle: IdleResult | None,
    ceiling: PassThroughResult | None, watcher: NoticeWatcher, peak_kib: dict[str, int],
    rounds: list[RosterRound] | None = None, roster_shape: tuple[int, int] = (0, 0),
) -> None:  # fmt: skip
    print()
    print("=" * WIDTH)
    print(f"latency at capacity (queueing included): {_latency_line(capacity)}")
    print(
        f"notices by kind: {dict(sorted(watcher.kinds.items()))}; "
        f"by delivery: {watcher.deliveries}; without correlation id: {watcher.uncorrelated}"
    )
    print("-" * WIDTH)
    print(f"run {info.suffix}: {info.replicas} process(es) per service; services' log level "
          f"{info.log_level}; database {durability_line(info.durability)}; sessions performed "
          f"{info.outcomes}")  # fmt: skip
    _row("measure (targets of issues 13 and 14)", "measured", "target")
    rate = capacity.pipeline_rate
    _row(f"clinic events/s through all three services ({capacity.events:,})",
         f"{rate:,.0f}/s", f"≥ {TARGET_RATE:,.0f}/s", _verdict(rate >= TARGET_RATE))  # fmt: skip
    _row("  inputs consumed by eligibility and planner", f"{capacity.input_rate:,.0f}/s")
    if ceiling is not None:
        ratio = rate / ceiling.rate if ceiling.rate else 0.0
        _row(f"  bare pass-through, same run (pipeline {ratio:.1%} of it)",
             f"{ceiling.rate:,.0f}/s")  # fmt: skip
    _roster_rows(rounds or [], roster_shape)
    for result in fixed:
        _rate_row(result)
    if idle is not None:
        _idle_rows(idle)
    _cpu_rows(capacity)
    for result in fixed:
        _row(f"  all processes at {result.target_rate or 0:,.0f}/s",
             f"{result.cpu_ms_per_event:.2f} ms")  # fmt: skip
    _rss_rows(peak_kib)
    span = capacity.end_seconds or 1.0
    _row("CPU outside this run during capacity (other work)",
         f"{capacity.others_cpu / span:.0%} of a core", f"load {capacity.load:.2f}")  # fmt: skip
    print("=" * WIDTH)
    sys.stdout.flush()
