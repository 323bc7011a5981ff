"""Where the time goes: the services' /metrics and the CPU each process used, per phase."""

import contextlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

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
        for (family, sample, labels), value in samples.items():
            topic = dict(labels).get("topic")
            if topic is None:
                continue
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


def published(before: dict[str, Sample], after: dict[str, Sample]) -> dict[str, float]:
    out = {}
    for service, samples in after.items():
        base = before.get(service, {})
        out[service] = sum(
            v - base.get(k, 0.0) for k, v in samples.items()
            if k[1] == "courseflow_outbox_published_total"
        )  # fmt: skip
    return out


def _cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    return 0.0


def _infrastructure(kafka_marker: bytes) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {"postgres (all backends)": [], "kafka broker": []}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            comm = (entry / "comm").read_text().strip()
            if comm == "postgres":
                groups["postgres (all backends)"].append(int(entry.name))
            elif comm == "java" and kafka_marker in (entry / "cmdline").read_bytes():
                groups["kafka broker"].append(int(entry.name))
    return groups


def _machine_busy() -> tuple[float, float]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


@dataclass
class CpuMeter:
    """CPU seconds per process group between `start()` and `stop()`."""

    services: dict[str, int]
    kafka_marker: bytes = b"kafka.Kafka"
    harness_pid: int = field(default_factory=os.getpid)
    _start: dict[str, float] = field(default_factory=dict)
    _machine: tuple[float, float] = (0.0, 0.0)

    def _read(self) -> dict[str, float]:
        groups = {name: [pid] for name, pid in self.services.items()}
        groups["harness"] = [self.harness_pid]
        groups.update(_infrastructure(self.kafka_marker))
        return {name: sum(_cpu_seconds(p) for p in pids) for name, pids in groups.items()}

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
