"""monitoring/alerts.yml: valid for promtool, and each alert unit-tested firing and quiet.

promtool comes with Debian's `prometheus` (tools/ensure-prometheus.sh, run by `make test`);
without it the promtool tests are skipped, saying so.
"""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
RULES = MONITORING / "alerts.yml"
RULE_TESTS = MONITORING / "alerts.test.yml"

# Issue 15: lag growing, outbox too old, dead letters, deliveries failing, a service down or
# unhealthy, a timer overdue.
EXPECTED_ALERTS = {
    "CourseflowConsumerLagGrowing",
    "CourseflowOutboxStuck",
    "CourseflowDeadLetters",
    "CourseflowNoticeDeliveriesFailing",
    "CourseflowServiceDown",
    "CourseflowServiceUnhealthy",
    "CourseflowTimerOverdue",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not on PATH (tools/ensure-prometheus.sh installs it as root)")
    return found


def run_promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_the_alerts_the_issue_asks_for_exist() -> None:
    assert {rule["alert"] for rule in alert_rules()} == EXPECTED_ALERTS


def test_promtool_accepts_the_rules() -> None:
    result = run_promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rule_unit_tests_pass() -> None:
    result = run_promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases: dict[str, set[bool]] = {}
    for test in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    assert {name: fires for name, fires in cases.items() if fires == {True, False}} == {
        name: {True, False} for name in EXPECTED_ALERTS
    }


@pytest.mark.parametrize("alert", sorted(EXPECTED_ALERTS))
def test_the_unit_tests_catch_an_alert_that_never_fires(tmp_path: Path, alert: str) -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["expr"] = "vector(1) == 0"
    (tmp_path / RULES.name).write_text(yaml.safe_dump(rules), encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    result = run_promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0
    assert f"alertname: {alert}" in result.stdout + result.stderr
