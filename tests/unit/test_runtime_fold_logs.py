"""The fold logs each event under its key, by the name the Decider gives its keys: a
patient's events under `patient_id`, a clinic's staff events under `clinic_id` (the staff
topic's subject is a therapist: it is no patient id). The name passes the log allow-list."""

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from services.planner.app import clinic_of
from services.planner.clinic import ClinicState, StaffDecider
from services.planner.state import PatientState
from services.runtime import logs
from services.runtime.decider import Context, key_field
from services.runtime.memory import InMemoryShell
from tests.clinic_events import ClinicFeed
from tests.staff_events import StaffFeed
from tests.unit.test_planner_decider import planner

D = date(2026, 3, 2)
TODAY = Context(D, datetime(2026, 3, 2, 12, tzinfo=UTC))
HOURS = [(weekday, "08:00", "12:00") for weekday in range(5)]


def handled_lines(shell: InMemoryShell[Any, Any, Any, Any], *events: Any) -> list[Any]:
    with capture_logs() as lines:
        shell.handle(*events)
    return [line for line in lines if line["event"] in {"handled", "duplicate skipped"}]


def test_a_clinic_s_staff_events_are_logged_under_its_clinic_id() -> None:
    shell: InMemoryShell[Any, Any, Any, Any] = InMemoryShell(
        StaffDecider(), ClinicState(), lambda: TODAY, key_of=clinic_of
    )
    rostered = StaffFeed("north").rostered("T1", D, HOURS)
    handled, duplicate = handled_lines(shell, rostered, rostered)
    for line in (handled, duplicate):
        assert line["clinic_id"] == "north"
        assert "patient_id" not in line  # the subject is a therapist, no patient


def test_a_patient_s_events_are_logged_under_the_patient_id() -> None:
    feed = ClinicFeed(patient="P-1")
    shell: InMemoryShell[Any, Any, Any, Any] = InMemoryShell(
        planner(), PatientState(), lambda: TODAY
    )
    (handled,) = handled_lines(shell, feed.enrolled(D))
    assert handled["patient_id"] == "P-1"
    assert "clinic_id" not in handled


def test_every_decider_s_key_name_passes_the_allow_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = logs.configure("planner", fmt="json")
    names = [key_field(decider) for decider in (planner(), StaffDecider())]
    assert names == ["patient_id", "clinic_id"]
    for name in names:
        log.info("handled", **{name: "K-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [line.get(name) for line, name in zip(lines, names, strict=True)] == ["K-1", "K-1"]
