"""R-DURATION-RAMP: 7, 8, ... 15 minutes, then 15; a run after a suspension starts at 7."""

from __future__ import annotations

from services.planner.policy import DEFAULT_POLICY, PlannerPolicy


def ramp_minutes(position_in_run: int, policy: PlannerPolicy = DEFAULT_POLICY) -> int:
    """Minutes for the session at 0-based `position_in_run` (performed sessions so far)."""
    grown = policy.ramp_start_min + policy.ramp_step_min * position_in_run
    return min(grown, policy.ramp_cap_min)
