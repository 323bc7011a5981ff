"""Soak: clinic events at a fixed rate for a long time; consumer lag and memory must stay flat.

    .venv/bin/python -m bench.pipeline --soak-minutes 30 --rate 370

The services, topics, database and consumer groups are the harness's own (`start_services`),
removed at the end even on Ctrl-C. Every --sample-seconds one line: elapsed, events sent,
consumer lag per service (end offsets minus the group's committed offsets over its input
topics), outbox backlog per service (`courseflow_outbox_backlog` of its /metrics), RSS of
each service process (VmRSS) and notices so far. The verdict compares thirds of the samples:
lag is flat when the last third's maximum is at most the middle third's maximum plus
LAG_TOLERANCE (relative) or LAG_SLACK_S seconds of input (absolute); memory is flat when RSS
grew by less than RSS_GROWTH over the last two thirds.
"""

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field

from bench.kafka_io import LagProbe, NoticeWatcher, producer, send_all
from bench.observe import by_service, rss_kib, scrape
from bench.pipeline import Run, remove_logs, start_services
from bench.processes import service_of
from bench.workload import generate
from services import SERVICES

DEFAULT_RATE = 370.0  # half the capacity of issue 6 (742 events/s), for comparable soaks
EVENTS_PER_PATIENT = 10  # as `make bench`: 10,000 events for 1,000 patients
LAG_TOLERANCE = 0.25
LAG_SLACK_S = 5.0
RSS_GROWTH = 0.10


@dataclass(frozen=True, slots=True)
class SoakSample:
    elapsed: float
    sent: int
    lag: dict[str, int]
    backlog: dict[str, float]
    rss_kib: dict[str, int]
    notices: int


@dataclass
class Sender:
    """Fresh patients, chunk after chunk, at `rate` per second until `until`."""

    run: Run
    rate: float
    until: float
    sent: int = 0
    chunks: int = 0

    async def __call__(self) -> None:
        assert self.run.topics is not None
        prod = producer(self.run.args.bootstrap, "bench-clinic-soak")
        await prod.start()
        try:
            chunk = max(int(self.rate * 2), EVENTS_PER_PATIENT)  # ~2 s of events
            start = time.perf_counter()
            while time.perf_counter() < self.until:
                self.chunks += 1
                messages = generate(chunk // EVENTS_PER_PATIENT, chunk, seed=self.chunks,
                                    run=f"{self.run.suffix}s{self.chunks}")  # fmt: skip
                # Keep the overall schedule: a chunk that starts late sends a little faster.
                behind = self.sent - self.rate * (time.perf_counter() - start)
                if behind > 0:
                    await asyncio.sleep(behind / self.rate)
                sent = await send_all(prod, self.run.topics.patient_events, messages,
                                      rate=self.rate, deadline=self.until + 60)  # fmt: skip
                self.sent += len(sent)
        finally:
            await prod.stop()


async def _sample(
    run: Run, probe: LagProbe, watcher: NoticeWatcher, elapsed: float, sent: int
) -> SoakSample:
    assert run.group is not None
    assert run.topics is not None
    topics = run.topics
    lag = {s: await probe.lag(run.group.groups[s], topics.inputs(s)) for s in SERVICES}
    metrics = by_service(await scrape(run.group.urls()))
    backlog = {
        s: sum(v for k, v in metrics.get(s, {}).items() if k[1] == "courseflow_outbox_backlog")
        for s in SERVICES
    }
    rss: dict[str, int] = {}
    for label, pid in run.group.pids().items():  # the largest replica of each service
        rss[service_of(label)] = max(rss.get(service_of(label), 0), rss_kib(pid))
    return SoakSample(elapsed, sent, lag, backlog, rss, watcher.count)


def _header() -> str:
    per = " ".join(f"{s[:5]:>6}" for s in SERVICES)
    return f"{'min':>5} {'sent':>7} | lag {per} | outbox {per} | RSS MiB {per} | {'notices':>7}"


def _line(s: SoakSample) -> str:
    lag = " ".join(f"{s.lag[k]:>6}" for k in SERVICES)
    backlog = " ".join(f"{s.backlog[k]:>6.0f}" for k in SERVICES)
    rss = " ".join(f"{s.rss_kib.get(k, 0) / 1024:>6.1f}" for k in SERVICES)
    return (f"{s.elapsed / 60:>5.1f} {s.sent:>7} |     {lag} |        {backlog} |"
            f"         {rss} | {s.notices:>7}")  # fmt: skip


@dataclass
class Verdict:
    lag_flat: bool = True
    memory_flat: bool = True
    lines: list[str] = field(default_factory=list)


def verdict(samples: list[SoakSample], rate: float) -> Verdict:
    """Lag and memory of the last third against the middle third (see the module doc)."""
    out = Verdict()
    third = len(samples) // 3
    if third < 1:
        out.lag_flat = out.memory_flat = False
        out.lines.append(f"too few samples ({len(samples)}) for a verdict")
        return out
    middle, last = samples[third : 2 * third], samples[2 * third :]
    for s in SERVICES:
        m = max(x.lag[s] for x in middle)
        n = max(x.lag[s] for x in last)
        allowed = max(m * (1 + LAG_TOLERANCE), m + rate * LAG_SLACK_S)
        ok = n <= allowed
        out.lag_flat &= ok
        out.lines.append(f"lag {s}: max middle third {m}, max last third {n} "
                         f"(allowed {allowed:.0f}) {'flat' if ok else 'GROWING'}")  # fmt: skip
    for s in SERVICES:
        first, end = samples[third].rss_kib.get(s, 0), samples[-1].rss_kib.get(s, 0)
        growth = (end - first) / first if first else float("inf")
        ok = growth < RSS_GROWTH
        out.memory_flat &= ok
        out.lines.append(f"RSS {s}: {first / 1024:.1f} MiB at {samples[third].elapsed / 60:.1f} "
                         f"min → {end / 1024:.1f} MiB at the end ({growth:+.1%}, limit "
                         f"{RSS_GROWTH:.0%}) {'flat' if ok else 'GROWING'}")  # fmt: skip
    return out


async def soak(run: Run) -> int:
    args = run.args
    rate = args.rate[0].rate if args.rate else DEFAULT_RATE
    seconds = 60 * args.soak_minutes
    print(f"soak run {run.suffix}: {rate:,.0f} events/s for {args.soak_minutes:g} min, "
          f"a sample every {args.sample_seconds:g} s (load {os.getloadavg()[0]:.2f})")  # fmt: skip
    run_dir = await start_services(run)
    assert run.group is not None
    assert run.topics is not None
    watcher = NoticeWatcher(args.bootstrap, run.topics.notices)
    probe = LagProbe(args.bootstrap)
    await watcher.start()
    await probe.start()
    samples: list[SoakSample] = []
    start = time.perf_counter()
    sender = Sender(run, rate, until=start + seconds)
    task = asyncio.create_task(sender())
    try:
        print(_header(), flush=True)
        for n in range(1, int(seconds // args.sample_seconds) + 1):
            await asyncio.sleep(max(start + n * args.sample_seconds - time.perf_counter(), 0))
            if task.done():
                task.result()  # a failed sender fails the soak
            run.group.check_alive()
            sample = await asyncio.wait_for(
                _sample(run, probe, watcher, time.perf_counter() - start, sender.sent),
                timeout=args.sample_seconds,
            )
            samples.append(sample)
            print(_line(sample), flush=True)
        await asyncio.wait_for(task, timeout=120)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await watcher.stop()
        await probe.stop()
    dead = 0
    probe = LagProbe(args.bootstrap)
    await probe.start()
    try:
        dead = await probe.size(run.topics.dead_letters)
    finally:
        await probe.stop()
    result = verdict(samples, rate)
    elapsed = time.perf_counter() - start
    print(f"sent {sender.sent} events in {elapsed:.0f} s ({sender.sent / elapsed:,.1f}/s), "
          f"{watcher.count} notices, {dead} dead letters, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for line in result.lines:
        print("  " + line)
    print(f"verdict: lag {'FLAT' if result.lag_flat else 'GROWING'}, "
          f"memory {'FLAT' if result.memory_flat else 'GROWING'}")  # fmt: skip
    if not args.keep_logs:
        remove_logs(run_dir)
    return 0 if result.lag_flat and result.memory_flat else 1
