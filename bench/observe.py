"""Where the time goes: the services' /metrics and the CPU each process used, per phase."""

import contextlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.processes import service_of

TICKS = os.sysconf("SC_CLK_TCK")
Sample = dict[tuple[str, str, tuple[tuple[str, str], ...]], float]


async def scrape(urls: dict[str, str]) -> dict[str, Sample]:
    """Every courseflow_* sample of every service, keyed by (name, sample, labels)."""
    out: dict[str, Sample] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        for service, url in urls.items():
            samples: Sample = {}
            with contextlib.suppress(httpx.HTTPError):
                text = (await client.get(f"{url}/metrics")).text
                for family in text_string_to_metric_families(text):
                    if not family.name.startswith("courseflow"):
                        continue
                    for s in family.samples:
                        labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                        if "le" in s.labels:
                            continue
                        samples[(family.name, s.name, labels)] = s.value
            out[service] = samples
    return out


def by_service(samples: dict[str, Sample]) -> dict[str, Sample]:
    """The samples of a service's replicas added up under the service's name."""
    out: dict[str, Sample] = {}
    for label, sample in samples.items():
        merged = out.setdefault(service_of(label), {})
        for key, value in sample.items():
            merged[key] = merged.get(key, 0.0) + value
    return out


@dataclass(frozen=True, slots=True)
class TopicWork:
    service: str
    topic: str
    messages: float
    duplicates: float
    batches: float
    handler_seconds: float

    @property
    def batch_size(self) -> float:
        return self.messages / self.batches if self.batches else 0.0

    @property
    def ms_per_message(self) -> float:
        return 1000 * self.handler_seconds / self.messages if self.messages else 0.0


def work(before: dict[str, Sample], after: dict[str, Sample]) -> list[TopicWork]:
    """Per service and topic: messages handled, batches, seconds inside the DB transaction."""
    rows = []
    for service, samples in after.items():
        base = before.get(service, {})
        totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        consumer_of = _consumers(samples)
        for (family, sample, labels), value in samples.items():
            topic = dict(labels).get("topic")
            if topic is None:
                continue
            topic = consumer_of.get(topic, topic)
            delta = value - base.get((family, sample, labels), 0.0)
            if sample == "courseflow_batch_seconds_sum":
                totals[topic]["seconds"] += delta
            elif sample == "courseflow_batch_seconds_count":
                totals[topic]["batches"] += delta
            elif sample == "courseflow_messages_total":
                totals[topic]["messages"] += delta
                if dict(labels).get("outcome") == "duplicate":
                    totals[topic]["duplicates"] += delta
        rows += [TopicWork(service, topic, t["messages"], t["duplicates"], t["batches"],
                           t["seconds"])
                 for topic, t in sorted(totals.items())]  # fmt: skip
    return rows


def _consumers(samples: Sample) -> dict[str, str]:
    """Each topic → the topics of the consumer that reads it, as its batches are labelled (a
    consumer may read several topics: "a,b"), so its messages and its batches add up."""
    return {
        topic: labels_topic
        for (_, sample, labels) in samples
        if sample == "courseflow_batch_seconds_count"
        and (labels_topic := dict(labels).get("topic")) is not None
        for topic in labels_topic.split(",")
    }


def published(before: dict[str, Sample], after: dict[str, Sample]) -> dict[str, float]:
    out = {}
    for service, samples in after.items():
        base = before.get(service, {})
        out[service] = sum(
            v - base.get(k, 0.0) for k, v in samples.items()
            if k[1] == "courseflow_outbox_published_total"
        )  # fmt: skip
    return out


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, …); empty if gone."""
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()
    return []


def _cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime, and with `reaped_children` the cutime + cstime of children waited for."""
    fields = _stat(pid)
    if len(fields) < 15:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def _children(pid: int) -> list[int]:
    stats = ((entry, _stat(int(entry.name))) for entry in Path("/proc").iterdir()
             if entry.name.isdigit())  # fmt: skip
    return [int(entry.name) for entry, fields in stats if fields[1:2] == [str(pid)]]


def postgres_cpu_seconds(postmaster: int) -> float:
    """The cluster's processes only (not another cluster on the machine): the postmaster,
    its live backends, and the backends that have exited (in the postmaster's cutime)."""
    own = _cpu_seconds(postmaster, reaped_children=True)
    return own + sum(_cpu_seconds(child) for child in _children(postmaster))


async def postmaster_pid(database_url: str) -> int | None:
    """The postmaster behind `database_url`, if it runs on this machine."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:  # while the backend is there to be looked at
        return _postgres_parent(int(await conn.fetchval("SELECT pg_backend_pid()")))
    finally:
        await conn.close()


def _postgres_parent(backend: int) -> int | None:
    fields = _stat(backend)
    if not fields:
        return None  # a server on another machine
    parent = int(fields[1])
    with contextlib.suppress(OSError):
        if Path(f"/proc/{parent}/comm").read_text().strip() == "postgres":
            return parent
    return None


def _kafka_pids(kafka_marker: bytes) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "comm").read_text().strip() == "java" and kafka_marker in (
                entry / "cmdline"
            ).read_bytes():
                pids.append(int(entry.name))
    return pids


def _status_kib(pid: int, field_name: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
    return 0


def rss_kib(pid: int) -> int:
    """Resident memory now."""
    return _status_kib(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    """The most resident memory the process has had since it started (its high-water mark)."""
    return _status_kib(pid, "VmHWM")


def _machine_busy() -> tuple[float, float]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


KAFKA = "kafka broker"
POSTGRES = "postgres (this cluster)"
HARNESS = "harness"


@dataclass
class CpuMeter:
    """CPU seconds per process group between `start()` and `stop()`.

    The groups: each service process (by label), the harness, the broker (by the marker in
    its command line) and, given its postmaster, the PostgreSQL cluster.
    """

    services: dict[str, int]
    kafka_marker: bytes = b"kafka.Kafka"
    postmaster: int | None = None
    harness_pid: int = field(default_factory=os.getpid)
    _start: dict[str, float] = field(default_factory=dict)
    _machine: tuple[float, float] = (0.0, 0.0)

    def _read(self) -> dict[str, float]:
        seconds = {name: _cpu_seconds(pid) for name, pid in self.services.items()}
        seconds[HARNESS] = _cpu_seconds(self.harness_pid)
        seconds[KAFKA] = sum(_cpu_seconds(pid) for pid in _kafka_pids(self.kafka_marker))
        if self.postmaster is not None:
            seconds[POSTGRES] = postgres_cpu_seconds(self.postmaster)
        return seconds

    def start(self) -> None:
        self._start = self._read()
        self._machine = _machine_busy()

    def stop(self) -> tuple[dict[str, float], float, float]:
        """(CPU seconds per group, CPU seconds of everything else, machine busy fraction)."""
        now = self._read()
        busy, total = _machine_busy()
        used = {k: v - self._start.get(k, 0.0) for k, v in now.items()}
        busy_seconds, span = busy - self._machine[0], total - self._machine[1]
        others = busy_seconds - sum(used.values())
        return used, others, busy_seconds / span if span else 0.0


LOG_SIGNS = {
    "rebalances": "because it is rebalancing",
    "transient retries": "transient failure; retrying",
    "deadlocks": "DeadlockDetectedError",
}


def log_signs(log_files: dict[str, Path]) -> dict[str, dict[str, int]]:
    """Lines of each service's log that show lost time: rebalances, retried transactions."""
    counts: dict[str, dict[str, int]] = {}
    for service, path in log_files.items():
        text = path.read_text(errors="replace") if path.exists() else ""
        counts[service] = {name: text.count(sign) for name, sign in LOG_SIGNS.items()}
    return counts
