"""`courseflow db provision`: which URL, database and passwords reach the role provisioning,
and that no password is ever printed (no database here: provisioning itself is replaced)."""

import os
from typing import Any

import pytest

from services import SERVICES, cli
from services.stack import roles

SECRETS = {
    "COURSEFLOW_ELIGIBILITY_DB_PASSWORD": "s3cret-eligibility",
    "COURSEFLOW_PLANNER_DB_PASSWORD": "s3cret-planner",
    "COURSEFLOW_NOTIFIER_DB_PASSWORD": "s3cret-notifier",
}
ADMIN_URL = "postgresql://admin:admin-s3cret@db.example:5433/clinic"


@pytest.fixture
def provisioned(monkeypatch) -> list[dict[str, Any]]:
    """The calls `db provision` makes, instead of connecting anywhere."""
    for variable in [v for v in os.environ if v.upper().startswith("COURSEFLOW_")]:
        monkeypatch.delenv(variable)
    calls: list[dict[str, Any]] = []

    async def provision(admin_url: str, database: str, passwords: dict[str, str] | None) -> None:
        calls.append({"url": admin_url, "database": database, "passwords": passwords})

    monkeypatch.setattr(roles, "provision", provision)
    return calls


def test_password_variables_are_per_service() -> None:
    assert [cli.password_variable(s) for s in SERVICES] == list(SECRETS)


def test_passwords_come_from_their_variables_and_empty_means_unchanged() -> None:
    assert cli.db_passwords(SECRETS) == {
        "eligibility": "s3cret-eligibility",
        "planner": "s3cret-planner",
        "notifier": "s3cret-notifier",
    }
    partial = {"COURSEFLOW_PLANNER_DB_PASSWORD": "p", "COURSEFLOW_NOTIFIER_DB_PASSWORD": ""}
    assert cli.db_passwords(partial) == {"planner": "p"}
    assert cli.db_passwords({"COURSEFLOW_DB_PASSWORD": "shared"}) == {}


def test_admin_url_option_names_the_server_and_database(provisioned, monkeypatch, capsys) -> None:
    for variable, value in SECRETS.items():
        monkeypatch.setenv(variable, value)
    assert cli.main(["db", "provision", "--admin-url", ADMIN_URL]) == 0
    assert provisioned == [
        {
            "url": ADMIN_URL,
            "database": "clinic",
            "passwords": {
                "eligibility": "s3cret-eligibility",
                "planner": "s3cret-planner",
                "notifier": "s3cret-notifier",
            },
        }
    ]
    out, err = capsys.readouterr()
    assert "courseflow_planner: owns schema planner in clinic (password set)" in out
    for secret in [*SECRETS.values(), "admin-s3cret"]:
        assert secret not in out + err


def test_default_admin_url_is_courseflow_database_url(provisioned, monkeypatch, capsys) -> None:
    monkeypatch.setenv("COURSEFLOW_DATABASE_URL", "postgresql://root:pw@postgres:5432/care%20db")
    monkeypatch.setenv("COURSEFLOW_PLANNER_DB_PASSWORD", "only-planner")
    assert cli.main(["db", "provision"]) == 0
    assert provisioned[0]["url"] == "postgresql://root:pw@postgres:5432/care%20db"
    assert provisioned[0]["database"] == "care db"
    assert provisioned[0]["passwords"] == {"planner": "only-planner"}
    out = capsys.readouterr().out
    assert "courseflow_eligibility: owns schema eligibility in care db (password unchanged)" in out


def test_without_any_setting_it_provisions_the_local_cluster(provisioned) -> None:
    assert cli.main(["db", "provision"]) == 0
    assert provisioned == [
        {
            "url": "postgresql://courseflow@127.0.0.1:55432/courseflow",
            "database": "courseflow",
            "passwords": {},
        }
    ]


def test_an_admin_url_without_a_database_is_refused(provisioned, capsys) -> None:
    assert cli.main(["db", "provision", "--admin-url", "postgresql://admin:pw@db:5432"]) == 2
    assert provisioned == []
    assert "names no database" in capsys.readouterr().err


def test_a_failed_connection_exits_1_without_secrets(monkeypatch, capsys) -> None:
    for variable, value in SECRETS.items():
        monkeypatch.setenv(variable, value)

    async def unreachable(*_args: object) -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    monkeypatch.setattr(roles, "provision", unreachable)
    assert cli.main(["db", "provision", "--admin-url", ADMIN_URL]) == 1
    out, err = capsys.readouterr()
    assert "courseflow db provision: ConnectionRefusedError" in err
    for secret in [*SECRETS.values(), "admin-s3cret", ADMIN_URL]:
        assert secret not in out + err


@pytest.mark.parametrize("argv", [["db"], ["db", "drop"], ["db", "provision", "--admin-url"]])
def test_bad_arguments_are_usage_errors(argv: list[str], provisioned, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert provisioned == []
    assert "usage: courseflow db" in capsys.readouterr().err
