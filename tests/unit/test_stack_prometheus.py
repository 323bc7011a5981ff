"""The Prometheus of `courseflow stack up --monitoring`: what it scrapes, and a configuration
promtool accepts (with the alert rules it names)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.stack.prometheus import RULES, PrometheusStack, Target, config, service_targets


def test_it_scrapes_each_service_where_its_settings_serve_metrics(monkeypatch) -> None:
    for variable in ("COURSEFLOW_HTTP_HOST", "COURSEFLOW_HTTP_PORT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COURSEFLOW_PLANNER_HTTP_PORT", "0")  # serves no HTTP: not a target
    monkeypatch.setenv("COURSEFLOW_NOTIFIER_HTTP_PORT", "59783")
    monkeypatch.setenv("COURSEFLOW_HTTP_HOST", "0.0.0.0")  # listens everywhere: scrape locally
    assert service_targets() == [
        Target("eligibility", "127.0.0.1:58081"),
        Target("notifier", "127.0.0.1:59783"),
    ]


def test_one_job_per_service_and_the_alert_rules() -> None:
    document = yaml.safe_load(config([Target("planner", "127.0.0.1:58082")]))
    assert document["rule_files"] == [str(RULES)]
    assert RULES.is_file()
    assert document["scrape_configs"] == [
        {"job_name": "planner", "static_configs": [{"targets": ["127.0.0.1:58082"]}]}
    ]


def test_promtool_accepts_the_generated_configuration(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not on PATH (tools/ensure-prometheus.sh installs it as root)")
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(config(service_targets()), encoding="utf-8")
    result = subprocess.run(
        [promtool, "check", "config", str(config_file)],
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {RULES}" in result.stdout  # the rules it names are checked too


def test_status_of_a_prometheus_never_started(tmp_path: Path) -> None:
    stack = PrometheusStack(home=tmp_path / "prometheus", port=1)
    assert stack.status().startswith("prometheus: not running")
    assert stack.down() is None
