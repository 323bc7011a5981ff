"""Clinic settings (DOMAIN.md **policy** values) the planner core is parameterised by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlannerPolicy:
    min_sessions: int = 15
    max_sessions: int = 20
    ramp_start_min: int = 7
    ramp_step_min: int = 1
    ramp_cap_min: int = 15
    break_months: int = 1
    next_course_due_months: int = 6
    reminder_days_before_due: int = 14
    pain_streak_to_flag: int = 2


DEFAULT_POLICY = PlannerPolicy()
