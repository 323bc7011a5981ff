"""Printing the figures."""

import argparse
import sys

from bench.kafka_io import NoticeWatcher
from bench.passthrough import PassThroughResult
from bench.stats import PhaseResult

TARGET_RATE = 2000.0
TARGET_P99_MS = 500.0


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
    print("  handler work (one DB transaction per consumed batch):")
    for w in result.work:
        busy = w.handler_seconds / result.end_seconds if result.end_seconds else 0
        topic = w.topic.rsplit(".", 1)[-1]
        print(f"    {w.service:<11} {topic:<14} {w.messages:>7.0f} msgs ({w.duplicates:.0f} dup)"
              f" {w.batches:>5.0f} batches avg {w.batch_size:>5.1f}/batch"
              f" {w.ms_per_message:>6.2f} ms/msg in tx, busy {busy:>4.0%}")  # fmt: skip
    print("  published by the outbox relays:",
          ", ".join(f"{k} {v:.0f}" for k, v in result.published.items()))  # fmt: skip
    span = result.end_seconds or 1.0
    print(f"  CPU during the phase: {result.cpu_ms_per_event:.1f} ms per clinic event in all "
          f"processes; machine busy {result.machine_busy:.0%} of all cores")  # fmt: skip
    for name, seconds in sorted(result.cpu.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<24} {seconds:>7.1f} s  = {seconds / span:>4.0%} of one core")
    print(
        f"    {'(not this run)':<24} {result.others_cpu:>7.1f} s  = "
        f"{result.others_cpu / span:>4.0%} of one core; load average {result.load:.2f}"
    )
    lost = {s: {k: n for k, n in c.items() if n} for s, c in result.log_signs.items()}
    print("  lost time seen in the logs:", {s: c for s, c in lost.items() if c} or "none")
    sys.stdout.flush()


def summary(
    args: argparse.Namespace, capacity: PhaseResult, latency: PhaseResult,
    ceiling: PassThroughResult | None, watcher: NoticeWatcher,
) -> None:  # fmt: skip
    print()
    print("=" * 78)
    print(f"pipeline capacity   {capacity.pipeline_rate:>9,.0f} clinic events/s through all three "
          f"services ({capacity.events} events, {capacity.patients} patients)")  # fmt: skip
    print(f"  inputs consumed   {capacity.input_rate:>9,.0f} events/s by eligibility and planner")
    if ceiling is not None:
        ratio = capacity.pipeline_rate / ceiling.rate if ceiling.rate else 0.0
        print(f"pass-through ceiling{ceiling.rate:>9,.0f} messages/s (bare aiokafka, acks=all, "
              f"idempotent)")  # fmt: skip
        print(f"ratio pipeline/ceiling {ratio:>6.1%}")
    kept_up = latency.input_rate >= 0.95 * (latency.target_rate or 0)
    print(
        f"latency phase kept up with its rate: {'yes' if kept_up else 'NO'} (sent "
        f"{latency.send_rate:,.0f}/s, consumed {latency.input_rate:,.0f}/s)"
    )
    print(
        f"CPU per clinic event, all processes: {capacity.cpu_ms_per_event:.1f} ms at capacity, "
        f"{latency.cpu_ms_per_event:.1f} ms at the fixed rate"
    )
    if ceiling is not None and ceiling.messages:
        print(
            f"CPU per pass-through message: "
            f"{1000 * sum(ceiling.cpu.values()) / ceiling.messages:.2f} ms"
        )
    print(f"latency at {latency.target_rate or 0:,.0f} events/s (log level {args.log_level}): "
          f"{_latency_line(latency)}")  # fmt: skip
    print(f"latency at capacity (queueing included): {_latency_line(capacity)}")
    print(
        f"notices by kind: {dict(sorted(watcher.kinds.items()))}; "
        f"by delivery: {watcher.deliveries}; without correlation id: {watcher.uncorrelated}"
    )
    met_rate = capacity.pipeline_rate >= TARGET_RATE
    met_p99 = bool(latency.latencies_ms) and latency.latency(99) < TARGET_P99_MS
    half = latency.target_rate and abs(2 * latency.target_rate - capacity.pipeline_rate) < (
        0.1 * capacity.pipeline_rate
    )
    print(f"issue 6 targets: ≥ {TARGET_RATE:,.0f} events/s: {'met' if met_rate else 'NOT met'}; "
          f"p99 < {TARGET_P99_MS:.0f} ms at half capacity: {'met' if met_p99 else 'NOT met'}"
          f"{'' if half else ' (measured at --rate, not at half capacity)'}")  # fmt: skip
    print("=" * 78)
