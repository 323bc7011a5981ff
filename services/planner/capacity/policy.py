"""Capacity settings (DOMAIN.md **policy** values of R-NO-OVERLAP and R-CAPACITY)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CapacityPolicy:
    turnover_min: int = 5  # R-NO-OVERLAP: the gap a therapist needs between two sessions
    horizon_days: int = 14  # R-CAPACITY: how far a session may move before the course waits


DEFAULT_CAPACITY_POLICY = CapacityPolicy()
