"""The per-patient state as JSON (for a jsonb column), round-trip exact.

Aware datetimes are stored with their UTC offset; they compare equal to the originals.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from services.planner.state import PatientState

_STATE = TypeAdapter(PatientState)


def to_json(state: PatientState) -> dict[str, Any]:
    dumped: dict[str, Any] = _STATE.dump_python(state, mode="json")
    return dumped


def from_json(data: dict[str, Any]) -> PatientState:
    return _STATE.validate_python(data)
