"""The notifier's pure core imports no I/O library; webhook signatures are what receivers check."""

import ast
import hashlib
import hmac
from pathlib import Path

import pytest

from services.notifier.channels.signing import signature, signature_matches
from services.notifier.message import OutgoingNotice

NOTIFIER = Path(__file__).parents[2] / "services" / "notifier"
PURE_CORE = ("kinds", "notice", "wording", "schedule_notices", "decision_notices", "routing",
             "backoff", "coalesce", "message")  # fmt: skip
IO_LIBRARIES = {"faststream", "asyncpg", "structlog", "aiokafka", "httpx", "aiosmtplib"}


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
    assert not {r for r in roots if r.startswith("services.runtime")}


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = OutgoingNotice("n-1", "course_resumed", "desk", "webhook", "P-1", "e-1",
                          "Patient P-1: course C resumed", ("R-REMISSION",)).body()  # fmt: skip
    expected = hmac.new(b"secret-secret-secret", body, hashlib.sha256).hexdigest()
    assert signature("secret-secret-secret", body) == f"sha256={expected}"
    assert signature_matches("secret-secret-secret", body, f"sha256={expected}")
    assert not signature_matches("secret-secret-secret", body + b" ", f"sha256={expected}")
