"""A real Prometheus (the machine's `prometheus`, Debian's package) scraping the services.

`courseflow stack up --monitoring` writes `.local/prometheus/prometheus.yml` (one job per
service, at the HTTP address its settings give; the alert rules of monitoring/alerts.yml)
and runs Prometheus on 127.0.0.1:COURSEFLOW_PROMETHEUS_PORT. tools/ensure-prometheus.sh
installs the package.
"""

import os
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.eligibility.settings import EligibilitySettings
from services.notifier.settings import NotifierSettings
from services.planner.settings import PlannerSettings
from services.runtime.settings import ServiceSettings
from services.stack import process
from services.stack.paths import local_dir

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "alerts.yml"
SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "eligibility": EligibilitySettings,
    "planner": PlannerSettings,
    "notifier": NotifierSettings,
}
# Short, so the demo's graphs and alerts follow within seconds; compose's config uses 15 s.
SCRAPE_INTERVAL = "5s"
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104 - compared with, never bound to


@dataclass(frozen=True, slots=True)
class Target:
    service: str
    address: str  # host:port of the service's /metrics


def service_targets() -> list[Target]:
    """Where each service serves /metrics with the settings of this environment (a service
    with HTTP port 0 serves none)."""
    targets = []
    for service, settings_cls in SERVICE_SETTINGS.items():
        settings = settings_cls()
        if settings.http_port:
            host = "127.0.0.1" if settings.http_host in _ANY_ADDRESS else settings.http_host
            targets.append(Target(service, f"{host}:{settings.http_port}"))
    return targets


def config(targets: Sequence[Target], rules: Path = RULES) -> str:
    """prometheus.yml: one job per service, named after it (`up{job="planner"}`): the
    services' metrics carry their own `service` label, which a target label would rename."""
    document = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": target.service, "static_configs": [{"targets": [target.address]}]}
            for target in targets
        ],
    }
    header = "# Written by `courseflow stack up --monitoring` at every up; edits are lost.\n"
    return header + yaml.safe_dump(document, sort_keys=False)


def binary() -> str | None:
    return shutil.which("prometheus")


@dataclass(frozen=True, slots=True)
class PrometheusStack:
    home: Path
    port: int = 59090

    @classmethod
    def from_env(cls) -> "PrometheusStack":
        return cls(
            home=local_dir() / "prometheus",
            port=int(os.environ.get("COURSEFLOW_PROMETHEUS_PORT", "59090")),
        )

    @staticmethod
    def installed() -> bool:
        return binary() is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "prometheus.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "prometheus.log"

    @property
    def config_file(self) -> Path:
        return self.home / "prometheus.yml"

    def up(self, targets: Sequence[Target] | None = None, timeout_s: float = 60.0) -> str:
        """Write the configuration for `targets` (default: the services' settings) and start
        Prometheus, or make the running one reload it."""
        executable = binary()
        if executable is None:
            raise RuntimeError(
                "prometheus is not installed: run tools/ensure-prometheus.sh as root "
                "(or apt-get install prometheus)"
            )
        if not RULES.exists():
            raise RuntimeError(f"the alert rules are missing: {RULES}")
        targets = service_targets() if targets is None else targets
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(config(targets), encoding="utf-8")
        scraped = ", ".join(f"{t.service} {t.address}" for t in targets) or "nothing"
        pid = process.read_pid(self.pid_file)
        if pid is not None:
            os.kill(pid, signal.SIGHUP)  # Prometheus reloads its configuration on SIGHUP
            return f"prometheus already running on {self.url} (reloaded; scraping {scraped})"
        if self.answers():
            raise RuntimeError(
                f"port {self.port} answers but is not our Prometheus; stop it or set "
                "COURSEFLOW_PROMETHEUS_PORT"
            )
        argv = [
            executable,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.home / 'data'}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        process.spawn(argv, pid_file=self.pid_file, log_file=self.log_file)
        if not process.wait_until(self.answers, timeout_s):
            process.stop(self.pid_file)
            raise RuntimeError(f"prometheus did not become ready; see {self.log_file}")
        return f"prometheus {version(executable)} up on {self.url} (scraping {scraped})"

    def down(self) -> str | None:
        """Stop it; None when it was not running (monitoring is optional)."""
        return "prometheus stopped" if process.stop(self.pid_file) else None

    def status(self) -> str:
        pid = process.read_pid(self.pid_file)
        if pid is None:
            return "prometheus: not running (stack up --monitoring starts it)"
        return f"prometheus: pid {pid} on {self.url}, answering={self.answers()}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310 - our own http URL
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def version(executable: str) -> str:
    """`prometheus, version 2.42.0+ds (branch: …)` → `2.42.0+ds`."""
    result = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    words = (result.stdout or result.stderr).split()
    return words[2] if len(words) > 2 else "(version unknown)"
