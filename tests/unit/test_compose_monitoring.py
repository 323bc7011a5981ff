"""compose's `monitoring` profile: Prometheus with the alert rules scraping the three
services, and Grafana provisioned with that Prometheus and the courseflow dashboard."""

import json
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from services.stack.prometheus import SERVICE_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
PROMETHEUS_CONFIG = MONITORING / "prometheus.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return dict(compose["services"])


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path → the repository directory or file bound there (named volumes left out)."""
    bound = {}
    for volume in service.get("volumes", []):
        source, target, *_ = str(volume).split(":")
        if source.startswith("./"):
            bound[target] = ROOT / source
    return bound


def host_path(service: dict[str, Any], container_path: str) -> Path:
    """Where `container_path` comes from in the repository, through the service's mounts."""
    for target, source in mounts(service).items():
        path = PurePosixPath(container_path)
        if path.is_relative_to(target):
            return source / path.relative_to(target)
    raise AssertionError(f"{container_path} is not mounted from the repository")


def test_prometheus_and_grafana_run_only_in_the_monitoring_profile(services) -> None:
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for mapping in services[name]["ports"]:
            assert str(mapping).startswith("127.0.0.1:"), mapping  # this host only


def test_prometheus_reads_the_repositorys_config_and_rules(services) -> None:
    prometheus = services["prometheus"]
    [config_flag] = [a for a in prometheus["command"] if a.startswith("--config.file=")]
    config_file = host_path(prometheus, config_flag.split("=", 1)[1])
    assert config_file == PROMETHEUS_CONFIG
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    for rules in config["rule_files"]:
        assert (config_file.parent / rules).is_file()


def test_prometheus_scrapes_every_service_on_its_http_port(services) -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    scraped = {
        job["job_name"]: [
            (name, sd["port"]) for sd in job["dns_sd_configs"] for name in sd["names"]
        ]
        for job in config["scrape_configs"]
    }
    expected = {
        name: [(name, settings.model_fields["http_port"].default)]
        for name, settings in SERVICE_SETTINGS.items()
    }
    assert scraped == expected
    assert set(expected) <= set(services)


def test_promtool_accepts_compose_prometheus_config() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not on PATH (tools/ensure-prometheus.sh installs it as root)")
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONFIG)],
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_gets_the_prometheus_data_source_and_the_dashboard(services) -> None:
    grafana = services["grafana"]
    provisioning = host_path(grafana, "/etc/grafana/provisioning")
    [source_file] = (provisioning / "datasources").glob("*.yml")
    [source] = yaml.safe_load(source_file.read_text(encoding="utf-8"))["datasources"]
    prometheus_port = str(services["prometheus"]["ports"][0]).rsplit(":", 1)[-1]
    assert source["url"] == f"http://prometheus:{prometheus_port}"
    [provider_file] = (provisioning / "dashboards").glob("*.yml")
    [provider] = yaml.safe_load(provider_file.read_text(encoding="utf-8"))["providers"]
    dashboards = host_path(grafana, provider["options"]["path"])
    [dashboard_file] = dashboards.glob("*.json")
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert host_path(grafana, home) == dashboard_file
    dashboard = json.loads(dashboard_file.read_text(encoding="utf-8"))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert panel["targets"], panel["title"]
