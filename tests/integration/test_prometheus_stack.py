"""`stack up --monitoring`'s Prometheus for real: it scrapes a /metrics page as the service's
job, keeps the service's own `service` label, loads the alert rules, and stops."""

import json
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import start_http_server

from services.runtime.metrics import Metrics
from services.stack import process
from services.stack.prometheus import PrometheusStack, Target, binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api(stack: PrometheusStack, path: str, **query: str) -> Any:
    url = f"{stack.url}/api/v1/{path}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[PrometheusStack]:
    if binary() is None:
        pytest.skip("prometheus is not installed (tools/ensure-prometheus.sh, as root)")
    stack = PrometheusStack(home=tmp_path / "prometheus", port=free_port())
    try:
        yield stack
    finally:
        stack.down()


def test_prometheus_scrapes_a_service_as_its_job_and_loads_the_rules(prometheus) -> None:
    metrics = Metrics("eligibility")
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    try:
        line = prometheus.up([Target("eligibility", f"127.0.0.1:{port}")])
        assert line.startswith("prometheus ")
        assert prometheus.url in line

        def scraped() -> bool:
            targets = api(prometheus, "targets")["activeTargets"]
            return [(t["labels"]["job"], t["health"]) for t in targets] == [("eligibility", "up")]

        assert process.wait_until(scraped, 60), api(prometheus, "targets")

        def dead_letters() -> list[dict[str, Any]]:
            return list(api(prometheus, "query", query="courseflow_dead_letters_total")["result"])

        assert process.wait_until(lambda: bool(dead_letters()), 30)
        [series] = dead_letters()
        assert series["metric"]["service"] == "eligibility"  # not renamed to exported_service
        assert series["metric"]["job"] == "eligibility"
        rules = [r["name"] for g in api(prometheus, "rules")["groups"] for r in g["rules"]]
        assert "CourseflowServiceDown" in rules
        assert "already running" in prometheus.up([Target("eligibility", f"127.0.0.1:{port}")])
        assert prometheus.status().endswith("answering=True")
    finally:
        server.shutdown()
        thread.join()
    assert prometheus.down() == "prometheus stopped"
    assert not prometheus.answers()
