"""The notifier's pure core imports no I/O library; the log channel logs no health data."""

import ast
import json
from pathlib import Path

import pytest
import structlog

from services.notifier.channels.log import LogChannel
from services.notifier.message import OutgoingNotice
from services.notifier.routing import LogRecipient

NOTIFIER = Path(__file__).parents[2] / "services" / "notifier"
PURE_CORE = ("kinds", "notice", "wording", "schedule_notices", "decision_notices", "routing",
             "backoff", "coalesce", "message", "decider", "calendar_updates",
             "roster_notices")  # fmt: skip
IO_LIBRARIES = {"faststream", "asyncpg", "structlog", "aiokafka", "httpx", "aiosmtplib"}
# The Decider's vocabulary (its protocol and output types, the clinic-local date, sessions
# as calendar events): no I/O.
RUNTIME_VOCABULARY = {"services.runtime.decider", "services.runtime.outbox",
                      "services.runtime.clock", "services.runtime.session_calendar"}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("services.") and not node.module.startswith(
                "services.notifier"
            ):
                roots.add(node.module)
    return roots


@pytest.mark.parametrize("module", PURE_CORE)
def test_pure_core_module_imports_no_io(module: str) -> None:
    roots = imported_roots(NOTIFIER / f"{module}.py")
    assert not roots & IO_LIBRARIES
    assert not {r for r in roots if r.startswith("services.runtime")} - RUNTIME_VOCABULARY


async def test_the_log_channel_logs_the_notice_id_kind_and_recipient_only() -> None:
    summary = "Patient P-1: course C-1 resumed: 3 sessions 2026-03-02..2026-03-06 (R-REMISSION)"
    notice = OutgoingNotice("n-1", "course_resumed", "ops", "log", "P-1", "e-1", summary,
                            ("R-REMISSION",))  # fmt: skip
    with structlog.testing.capture_logs() as lines:
        await LogChannel(structlog.get_logger()).send(LogRecipient(channel="log"), notice)
    [line] = lines
    assert set(line) == {"event", "log_level", "notice_id", "kind"}
    assert (line["notice_id"], line["kind"]) == ("n-1", "course_resumed")
    assert line["event"] == "notice for recipient ops"
    assert "2026-03" not in json.dumps(line)  # dates of care are health data
