"""Percentiles and the figures of one measured phase."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.observe import TopicWork


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(math.ceil(q / 100 * len(sorted_values)), 1)
    return sorted_values[rank - 1]


@dataclass
class PhaseResult:
    name: str
    events: int
    patients: int
    target_rate: float | None
    send_seconds: float
    consumed_seconds: float  # first send → every input committed by eligibility and planner
    end_seconds: float  # first send → the last notice observed (or inputs consumed, if later)
    latencies_ms: list[float]
    notices: int
    dead_letters: int
    work: list[TopicWork] = field(default_factory=list)
    published: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    others_cpu: float = 0.0  # CPU seconds of processes not in this run (other people's tests)
    load: float = 0.0
    log_signs: dict[str, dict[str, int]] = field(default_factory=dict)
    peak_rss_kib: dict[str, int] = field(default_factory=dict)  # per service process, so far

    @property
    def send_rate(self) -> float:
        return self.events / self.send_seconds if self.send_seconds else 0.0

    @property
    def input_rate(self) -> float:
        return self.events / self.consumed_seconds if self.consumed_seconds else 0.0

    @property
    def pipeline_rate(self) -> float:
        return self.events / self.end_seconds if self.end_seconds else 0.0

    @property
    def cpu_ms_per_event(self) -> float:
        """CPU of every process involved (services, broker, database, harness) per input."""
        return 1000 * sum(self.cpu.values()) / self.events if self.events else 0.0

    def cpu_ms_per_event_of(self, group: str) -> float:
        return 1000 * self.cpu.get(group, 0.0) / self.events if self.events else 0.0

    @property
    def kept_up(self) -> bool:
        """A fixed-rate phase whose inputs were consumed at (nearly) the rate asked."""
        return self.target_rate is not None and self.input_rate >= 0.95 * self.target_rate

    def latency(self, q: float) -> float:
        return percentile(sorted(self.latencies_ms), q)


@dataclass
class IdleResult:
    """CPU of each process while no event arrives, after everything before has drained."""

    seconds: float
    cpu: dict[str, float]
    others_cpu: float

    def core_share(self, groups: Sequence[str]) -> float:
        """The CPU of `groups` together as a fraction of one core."""
        return sum(self.cpu.get(g, 0.0) for g in groups) / self.seconds if self.seconds else 0.0
