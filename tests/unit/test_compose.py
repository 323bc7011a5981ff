"""compose.yaml stays valid and in step with the services' settings classes.

Valid variable names come from the settings classes' ``model_fields`` at test time, so a
new field is accepted as soon as it exists and a typo'd name in compose.yaml fails here
instead of being silently ignored by pydantic-settings at start-up.
"""

import copy
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from services.cli import db_passwords, password_variable
from services.eligibility.settings import EligibilitySettings
from services.notifier.settings import NotifierSettings
from services.planner.settings import PlannerSettings
from services.runtime.settings import SHARED_PREFIX, ServiceSettings
from services.stack.roles import role_for

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
HA_ENV_FILE = ROOT / "compose.ha.env"
KAFKA_NODES = ("kafka", "kafka-2", "kafka-3")

APP_SETTINGS: dict[str, type[ServiceSettings]] = {
    "eligibility": EligibilitySettings,
    "planner": PlannerSettings,
    "notifier": NotifierSettings,
}
# Compose services that run the courseflow image but are not one of the three services.
TOOL_SETTINGS: dict[str, type[ServiceSettings]] = {
    "demo": ServiceSettings,
    "db-roles": ServiceSettings,
}
# Variables a tool's command reads besides its settings: `courseflow db provision`'s passwords.
TOOL_VARIABLES: dict[str, set[str]] = {"db-roles": {password_variable(s) for s in APP_SETTINGS}}
BOOTSTRAP_VAR = f"{SHARED_PREFIX}KAFKA_BOOTSTRAP_SERVERS"
DATABASE_VAR = f"{SHARED_PREFIX}DATABASE_URL"
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?[-?](?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of compose's two forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return {name: value for name, _, value in (item.partition("=") for item in env)}
    return {name: "" if value is None else str(value) for name, value in env.items()}


def _env_names(settings_cls: type[ServiceSettings], prefix: str) -> Iterator[str]:
    for name, field in settings_cls.model_fields.items():
        yield prefix + name
        if isinstance(field.validation_alias, str):
            yield field.validation_alias


def accepted_names(settings_cls: type[ServiceSettings]) -> set[str]:
    """Every variable name the class reads: its own prefix first, then the shared one."""
    own_prefix = settings_cls.model_config.get("env_prefix") or ""
    names = {*_env_names(settings_cls, own_prefix), *_env_names(settings_cls, SHARED_PREFIX)}
    if settings_cls.model_config.get("case_sensitive", False):
        return names
    return {name.upper() for name in names}


def misnamed_variables(compose: Mapping[str, Any]) -> list[str]:
    """``service: VARIABLE`` for each COURSEFLOW_* variable no settings field would read."""
    problems = []
    services = compose.get("services") or {}
    for service_name, settings_cls in {**APP_SETTINGS, **TOOL_SETTINGS}.items():
        if service_name not in services:
            continue
        accepted = accepted_names(settings_cls) | TOOL_VARIABLES.get(service_name, set())
        case_sensitive = settings_cls.model_config.get("case_sensitive", False)
        for variable in environment_of(services[service_name]):
            if not variable.upper().startswith(SHARED_PREFIX):
                continue
            if (variable if case_sensitive else variable.upper()) not in accepted:
                problems.append(f"{service_name}: {variable}")
    return problems


def _interpolated(value: str, host: Mapping[str, str] | None = None) -> str:
    """What compose would pass: the host's ``NAME`` when set, else the ``${NAME:-default}``."""

    def substitute(match: re.Match[str]) -> str:
        if host is not None and match.group("name") in host:
            return host[match.group("name")]
        return match.group("default") or ""

    return _INTERPOLATION.sub(substitute, value)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _host_variables(compose: Mapping[str, Any]) -> dict[str, str]:
    """Every ``${NAME}`` the file names, each set to a value of its own (not its default)."""
    names = {m.group("name") for s in _strings(compose) for m in _INTERPOLATION.finditer(s)}
    return {name: f"{name.lower()}-from-the-host" for name in names}


def database_login_problems(compose: Mapping[str, Any]) -> list[str]:
    """Each of the three services logs in as its own role with the password `db-roles` sets
    for it, and nothing but `db-roles` holds the superuser's URL, with host variables unset
    and with all of them set."""
    services = compose["services"]
    postgres = environment_of(services["postgres"])
    problems: list[str] = []
    for host in (None, _host_variables(compose)):
        provisioned = db_passwords(
            {k: _interpolated(v, host) for k, v in environment_of(services["db-roles"]).items()}
        )
        for name in APP_SETTINGS:
            env = {k: _interpolated(v, host) for k, v in environment_of(services[name]).items()}
            own_var = f"{SHARED_PREFIX}{name.upper()}_DATABASE_URL"
            if own_var not in env:
                problems.append(f"{name}: no {own_var}")
                continue
            url = urlsplit(env[own_var])
            if url.username != role_for(name):
                problems.append(f"{name}: logs in as {url.username}, not {role_for(name)}")
            if unquote(url.password or "") != provisioned.get(name):
                problems.append(f"{name}: its password is not the one db-roles sets")
            if (url.hostname, url.port, url.path) != (
                "postgres",
                5432,
                f"/{postgres['POSTGRES_DB']}",
            ):
                problems.append(f"{name}: {own_var} is not the compose database")
        for name, service in services.items():
            if name == "db-roles":
                continue
            for variable, value in environment_of(service).items():
                if value.startswith("postgresql://") and (
                    urlsplit(_interpolated(value, host)).username == postgres["POSTGRES_USER"]
                ):
                    problems.append(f"{name}: {variable} logs in as the superuser")
    return sorted(set(problems))


def ha_variables() -> dict[str, str]:
    """The variables of compose.ha.env (`NAME=value` lines, `#` comments)."""
    lines = HA_ENV_FILE.read_text(encoding="utf-8").splitlines()
    pairs = (line.partition("=") for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): value.strip() for name, _, value in pairs}


@pytest.mark.parametrize(
    ("env_file", "profiles"),
    [(None, []), (HA_ENV_FILE, []), (None, ["monitoring"]), (HA_ENV_FILE, ["monitoring", "demo"])],
    ids=["single", "ha", "monitoring", "ha-monitoring-demo"],
)
def test_docker_compose_accepts_the_file(env_file: Path | None, profiles: list[str]) -> None:
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.skip("docker-compose is not on PATH (tools/ensure-docker-compose.sh installs it)")
    extra = ["--env-file", str(env_file)] if env_file else []
    extra += [option for profile in profiles for option in ("--profile", profile)]
    result = subprocess.run(
        [docker_compose, "-f", str(COMPOSE_FILE), *extra, "config", "-q"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr or result.stdout


def test_every_service_is_declared(compose) -> None:
    assert compose.get("version") is None, "compose spec: no `version:` key"
    expected = {"kafka", "postgres", "demo", "db-roles", *APP_SETTINGS}
    assert expected <= set(compose["services"])


def test_infrastructure_has_healthchecks(compose) -> None:
    for name in ("kafka", "postgres"):
        test = compose["services"][name]["healthcheck"]["test"]
        assert test
        assert test != ["NONE"]
    assert "pg_isready" in compose["services"]["postgres"]["healthcheck"]["test"]
    kafka_check = " ".join(compose["services"]["kafka"]["healthcheck"]["test"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in kafka_check
    assert "localhost:9092" in kafka_check


def test_kafka_is_official_4x_single_kraft_node(compose) -> None:
    kafka = compose["services"]["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert tag.split(".")[0] == "4", kafka["image"]
    env = {k: _interpolated(v) for k, v in environment_of(kafka).items()}
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert f"{env['KAFKA_NODE_ID']}@kafka:" in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "1"


def kafka_nodes(compose: Mapping[str, Any], host: Mapping[str, str] | None) -> dict[str, Any]:
    """Each Kafka node compose would run with these host variables: its environment."""
    profiles = set((host or {}).get("COMPOSE_PROFILES", "").split(","))
    services = compose["services"]
    return {
        name: {k: _interpolated(v, host) for k, v in environment_of(services[name]).items()}
        for name in KAFKA_NODES
        if name in services and set(services[name].get("profiles", [""])) & (profiles | {""})
    }


def quorum_problems(compose: Mapping[str, Any], host: Mapping[str, str] | None) -> list[str]:
    """Every running node is a voter of the one quorum every node names, with replication
    and min.insync.replicas that the running nodes can give."""
    nodes = kafka_nodes(compose, host)
    voters = {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in nodes.values()}
    problems = [f"nodes name different quorums: {sorted(voters)}"] if len(voters) != 1 else []
    expected = {f"{env['KAFKA_NODE_ID']}@{name}:9093" for name, env in nodes.items()}
    problems += [
        f"quorum {quorum} is not the running nodes {sorted(expected)}"
        for quorum in voters
        if set(quorum.split(",")) != expected
    ]
    replication = 3 if len(nodes) >= 3 else 1
    for name, env in nodes.items():
        if env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] != str(replication):
            problems.append(f"{name}: offsets topic replication is not {replication}")
        if env["KAFKA_MIN_INSYNC_REPLICAS"] != str(max(replication - 1, 1)):
            problems.append(f"{name}: min.insync.replicas does not fit {len(nodes)} nodes")
        if env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] != env["KAFKA_MIN_INSYNC_REPLICAS"]:
            problems.append(f"{name}: transaction log min ISR differs")
    return problems


def test_single_node_by_default_is_a_quorum_of_itself(compose) -> None:
    assert list(kafka_nodes(compose, None)) == ["kafka"]
    assert quorum_problems(compose, None) == []


def test_ha_profile_is_three_kraft_voters_with_rf3_and_min_isr2(compose) -> None:
    host = ha_variables()
    assert host["COMPOSE_PROFILES"] == "ha"
    nodes = kafka_nodes(compose, host)
    assert sorted(nodes) == sorted(KAFKA_NODES)
    assert quorum_problems(compose, host) == []
    assert {env["KAFKA_NODE_ID"] for env in nodes.values()} == {"1", "2", "3"}
    assert len({env["CLUSTER_ID"] for env in nodes.values()}) == 1


def test_quorum_checker_reports_a_node_outside_the_quorum(compose) -> None:
    broken = copy.deepcopy(compose)
    _set_env(broken, "kafka-3", "KAFKA_NODE_ID", "4")
    assert any("is not the running nodes" in p for p in quorum_problems(broken, ha_variables()))


@pytest.mark.parametrize("name", sorted(APP_SETTINGS))
def test_ha_services_use_all_three_brokers_with_rf3_min_isr2(compose, monkeypatch, name) -> None:
    for variable in [v for v in os.environ if v.upper().startswith(SHARED_PREFIX)]:
        monkeypatch.delenv(variable)
    for variable, value in environment_of(compose["services"][name]).items():
        monkeypatch.setenv(variable, _interpolated(value, ha_variables()))
    settings = APP_SETTINGS[name]()
    assert settings.kafka_bootstrap_list == [f"{n}:9092" for n in KAFKA_NODES]
    assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)


def test_data_lives_in_named_volumes_not_in_tmp(compose) -> None:
    declared = set(compose.get("volumes") or {})
    data_dirs = {"postgres": "/var/lib/postgresql/data"}
    for name in KAFKA_NODES:
        log_dirs = _interpolated(environment_of(compose["services"][name])["KAFKA_LOG_DIRS"])
        assert not log_dirs.startswith("/tmp"), f"{name} keeps its data in /tmp"
        data_dirs[name] = log_dirs
    volumes_used = []
    for name, data_dir in data_dirs.items():
        mounts = [str(m).split(":") for m in compose["services"][name].get("volumes", [])]
        named = [source for source, target, *_ in mounts if target == data_dir]
        assert named, f"{name}: {data_dir} is not a mounted volume"
        assert named[0] in declared, f"{name}: {named[0]} is not a named volume"
        volumes_used.append(named[0])
    assert len(set(volumes_used)) == len(volumes_used), "two services share a data volume"


def test_no_standard_port_is_published(compose) -> None:
    assert "ports" not in compose["services"]["postgres"]
    for name in APP_SETTINGS:
        assert "ports" not in compose["services"][name]
    external = {"kafka": "59092", "kafka-2": "59094", "kafka-3": "59096"}
    for name, port in external.items():
        for mapping in compose["services"][name].get("ports", []):
            host_port = str(mapping).rsplit(":", 2)[-2]
            assert host_port == port, mapping


@pytest.mark.parametrize("name", sorted(APP_SETTINGS))
def test_app_service_runs_itself_after_healthy_infrastructure(compose, name: str) -> None:
    service = compose["services"][name]
    assert service["command"] == ["run", name]
    assert service["image"] == "courseflow:local"
    assert service["build"] in (".", {"context": "."})
    assert service["restart"] == "unless-stopped"
    for dependency in ("kafka", "postgres"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"
    assert service["depends_on"]["db-roles"]["condition"] == "service_completed_successfully"
    assert "profiles" not in service


@pytest.mark.parametrize("name", sorted(APP_SETTINGS))
def test_app_service_reaches_kafka_and_postgres(compose, name: str) -> None:
    fields = ServiceSettings.model_fields
    assert "kafka_bootstrap_servers" in fields
    assert "database_url" in fields
    env = environment_of(compose["services"][name])
    assert _interpolated(env[BOOTSTRAP_VAR]) == "kafka:9092"
    assert f"{SHARED_PREFIX}{name.upper()}_DATABASE_URL" in env


def test_every_service_logs_in_as_its_own_role(compose) -> None:
    assert database_login_problems(compose) == []


def _set_env(compose: dict[str, Any], service: str, variable: str, value: str | None) -> None:
    env = environment_of(compose["services"][service])
    if value is None:
        env.pop(variable)
    else:
        env[variable] = value
    compose["services"][service]["environment"] = env


SUPERUSER_URL = "postgresql://courseflow:courseflow@postgres:5432/courseflow"
PLANNER_URL = "COURSEFLOW_PLANNER_DATABASE_URL"
ELIGIBILITY_URL = (
    "postgresql://courseflow_eligibility:${ELIGIBILITY_DB_PASSWORD:-eligibility-dev}"
    "@postgres:5432/courseflow"
)


@pytest.mark.parametrize(
    ("service", "variable", "value", "problem"),
    [
        ("planner", PLANNER_URL, SUPERUSER_URL, "planner: logs in as courseflow, not"),
        ("planner", PLANNER_URL, None, "planner: no COURSEFLOW_PLANNER_DATABASE_URL"),
        (
            "notifier",
            "COURSEFLOW_NOTIFIER_DATABASE_URL",
            ELIGIBILITY_URL,
            "notifier: logs in as courseflow_eligibility, not courseflow_notifier",
        ),
        (
            "db-roles",
            "COURSEFLOW_PLANNER_DB_PASSWORD",
            "${PLANNER_DB_PASSWORD:-another}",
            "planner: its password is not the one db-roles sets",
        ),
        (  # the same default, but another host variable: differs once the host sets them
            "db-roles",
            "COURSEFLOW_PLANNER_DB_PASSWORD",
            "${PLANER_DB_PASSWORD:-planner-dev}",
            "planner: its password is not the one db-roles sets",
        ),
        ("demo", DATABASE_VAR, SUPERUSER_URL, "demo: COURSEFLOW_DATABASE_URL logs in as the"),
    ],
)
def test_login_checker_reports_a_shared_or_wrong_login(
    compose, service: str, variable: str, value: str | None, problem: str
) -> None:
    broken = copy.deepcopy(compose)
    _set_env(broken, service, variable, value)
    problems = database_login_problems(broken)
    assert any(p.startswith(problem) for p in problems), problems


def test_db_roles_provisions_the_roles_once_as_the_superuser(compose, monkeypatch) -> None:
    roles = compose["services"]["db-roles"]
    assert roles["command"] == ["db", "provision"]
    assert roles["image"] == "courseflow:local"
    assert roles["restart"] == "no"
    assert roles["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "profiles" not in roles
    env = {k: _interpolated(v) for k, v in environment_of(roles).items()}
    postgres = environment_of(compose["services"]["postgres"])
    url = urlsplit(env[DATABASE_VAR])
    assert (url.username, url.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    assert (url.hostname, url.path) == ("postgres", f"/{postgres['POSTGRES_DB']}")
    assert set(db_passwords(env)) == set(APP_SETTINGS)  # every role gets a password
    for variable in [v for v in os.environ if v.upper().startswith(SHARED_PREFIX)]:
        monkeypatch.delenv(variable)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert ServiceSettings().database_url == env[DATABASE_VAR]  # what `db provision` uses


def test_every_courseflow_variable_names_a_settings_field(compose) -> None:
    assert misnamed_variables(compose) == []


KAFKA_CLIENTS: dict[str, type[ServiceSettings]] = {**APP_SETTINGS, "demo": ServiceSettings}


@pytest.mark.parametrize("name", sorted(KAFKA_CLIENTS))
def test_settings_accept_the_values(compose, monkeypatch, name: str) -> None:
    settings_cls = KAFKA_CLIENTS[name]
    for variable in [v for v in os.environ if v.upper().startswith(SHARED_PREFIX)]:
        monkeypatch.delenv(variable)
    env = environment_of(compose["services"][name])
    for variable, value in env.items():
        monkeypatch.setenv(variable, _interpolated(value))
    settings = settings_cls()
    assert settings.kafka_bootstrap_servers == _interpolated(env[BOOTSTRAP_VAR]) == "kafka:9092"
    assert settings.log_format == "json"
    if name in APP_SETTINGS:  # the service's own URL wins (there is no shared one to fall to)
        own = _interpolated(env[f"{SHARED_PREFIX}{name.upper()}_DATABASE_URL"])
        assert settings.database_url == own
        assert urlsplit(settings.database_url).username == role_for(name)


def test_demo_runs_only_in_its_profile(compose) -> None:
    demo = compose["services"]["demo"]
    assert demo["profiles"] == ["demo"]
    assert demo["command"] == ["demo", "--traffic-only"]
    assert set(APP_SETTINGS) <= set(demo["depends_on"])
    others = {name: s for name, s in compose["services"].items() if name != "demo"}
    assert {name: s["profiles"] for name, s in others.items() if "profiles" in s} == {
        "kafka-2": ["ha"],
        "kafka-3": ["ha"],
        "prometheus": ["monitoring"],
        "grafana": ["monitoring"],
    }


@pytest.mark.parametrize(
    ("service", "replaced", "wrong"),
    [
        ("planner", "COURSEFLOW_PLANNER_CLINIC_TIMEZONE", "COURSEFLOW_PLANNER_CLINIC_TIMEZOME"),
        ("notifier", BOOTSTRAP_VAR, "COURSEFLOW_KAFKA_BOOTSTRAP_SERVER"),
        ("db-roles", DATABASE_VAR, "courseflow_database_uri"),
        ("db-roles", "COURSEFLOW_PLANNER_DB_PASSWORD", "COURSEFLOW_PLANER_DB_PASSWORD"),
        # another service's variable: eligibility would silently ignore it
        ("eligibility", None, "COURSEFLOW_PLANNER_CLINIC_TIMEZONE"),
    ],
)
def test_checker_reports_a_misspelt_variable(
    compose, service: str, replaced: str | None, wrong: str
) -> None:
    broken = copy.deepcopy(compose)
    env = environment_of(broken["services"][service])
    env[wrong] = env.pop(replaced) if replaced else "x"
    broken["services"][service]["environment"] = [f"{k}={v}" for k, v in env.items()]
    assert misnamed_variables(broken) == [f"{service}: {wrong}"]


def test_checker_accepts_any_case_like_pydantic_settings(compose) -> None:
    relaxed = copy.deepcopy(compose)
    env = relaxed["services"]["planner"]["environment"]
    env["courseflow_planner_clinic_timezone"] = env.pop("COURSEFLOW_PLANNER_CLINIC_TIMEZONE")
    assert misnamed_variables(relaxed) == []
