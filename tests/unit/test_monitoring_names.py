"""The dashboard and the alert rules cannot silently rot: every PromQL expression in them
names only metrics the services export (services/runtime/metrics.py, which holds the
notifier's delivery counter too), with labels those metrics have, and topics that exist."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from schemas import topics
from services.runtime.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "monitoring" / "grafana" / "dashboards" / "courseflow.json"
RULES = ROOT / "monitoring" / "alerts.yml"

# Series Prometheus makes itself: per target, and for its own alerts.
PROMETHEUS_SERIES: dict[str, set[str]] = {
    "up": set(),
    "ALERTS": {"alertname", "alertstate", "severity", "service", "topic", "channel", "timer"},
}
TARGET_LABELS = {"job", "instance"}
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(r"(?P<name>[a-zA-Z_:][\w:]*)?\s*\{(?P<matchers>[^}]*)\}")
_MATCHER = re.compile(r'(?P<label>\w+)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w.$])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()")


def exported() -> dict[str, set[str]]:
    """Each sample name a service's /metrics can carry, with the labels it has."""
    metrics = Metrics("any")
    names = dict(PROMETHEUS_SERIES)
    for wrapper in vars(metrics).values():
        if isinstance(wrapper, MetricWrapperBase):
            [family] = wrapper.describe()
            labels = set(wrapper._labelnames)
            for suffix in SAMPLE_SUFFIXES[family.type]:
                names[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, keywords, labels, durations,
    strings and Grafana's $variables left out)."""
    text = re.sub(r"\$\{?\w+\}?", "1m", expr)
    text = _SELECTOR.sub(lambda m: f" {m.group('name') or ''} ", _STRING.sub('""', text))
    text = _GROUPING.sub(" ", re.sub(r"\[[^\]]*\]", " ", text))
    return {name for name in _NAME.findall(text) if name not in KEYWORDS}


def matchers(expr: str) -> Iterator[tuple[str | None, str, str, str]]:
    """(metric or None, label, operator, value) for every label matcher of the expression."""
    for selector in _SELECTOR.finditer(expr):
        for matcher in _MATCHER.finditer(selector.group("matchers")):
            yield selector.group("name"), matcher["label"], matcher["op"], matcher["value"]


def dashboard_exprs() -> list[str]:
    def panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for panel in node.get("panels", []):
            yield panel
            yield from panels(panel)

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]


def rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def problems(expr: str, known: dict[str, set[str]]) -> list[str]:
    found = [f"{name}: not exported" for name in sorted(metric_names(expr) - set(known))]
    for metric, label, op, value in matchers(expr):
        if metric in known and label not in known[metric] | TARGET_LABELS:
            found.append(f"{metric}: no label {label}")
        if label == "topic" and op == "=" and value not in topics.ALL_TOPICS:
            found.append(f"{metric}: no topic {value}")
    return found


def test_the_name_reader_finds_every_metric_and_nothing_else() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, service) "
        '(rate(a_bucket{topic="x"}[$__rate_interval])))'
        " / on (service) group_left b_total offset 10m > bool 1e3 and ignoring (x) c"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_an_expression_that_rotted_is_reported() -> None:
    known = exported()
    rotten = 'sum(rate(courseflow_notices_sent_total{topic="courseflow.notices"}[5m]))'
    assert problems(rotten, known) == ["courseflow_notices_sent_total: not exported"]
    wrong_label = 'courseflow_notice_deliveries_total{status="failed"}'
    assert problems(wrong_label, known) == ["courseflow_notice_deliveries_total: no label status"]
    wrong_topic = 'courseflow_outbox_published_total{topic="courseflow.decisions"}'
    assert problems(wrong_topic, known) == [
        "courseflow_outbox_published_total: no topic courseflow.decisions"
    ]


def test_the_dashboard_has_an_expression_per_panel_of_the_pipeline() -> None:
    exprs = " ".join(dashboard_exprs())
    for shown in (
        "courseflow_messages_total", "courseflow_outbox_published_total",
        "courseflow_consumer_lag", "courseflow_outbox_oldest_unsent_age_seconds",
        "courseflow_dead_letters_total", "courseflow_batch_seconds_bucket",
        "courseflow_notice_deliveries_total",
    ):  # fmt: skip
        assert shown in exprs
    for topic in (topics.PATIENT_EVENTS, topics.ELIGIBILITY, topics.SCHEDULE, topics.NOTICES):
        assert f'"{topic}"' in exprs  # events in, decisions, schedule changes, notices


@pytest.mark.parametrize("expr", dashboard_exprs())
def test_every_dashboard_expression_reads_exported_metrics(expr: str) -> None:
    assert problems(expr, exported()) == []


@pytest.mark.parametrize("expr", rule_exprs())
def test_every_alert_rule_reads_exported_metrics(expr: str) -> None:
    assert problems(expr, exported()) == []
