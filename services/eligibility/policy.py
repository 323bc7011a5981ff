"""Clinic settings the eligibility rules read (DOMAIN.md **policy** values)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    fever_threshold_c: float = 37.5
    postop_min_days: int = 14
    rheumatic_wait_months: int = 1
    advanced_stage_from: int = 3
    # Clinical dates may lead the event's own date a little: the sender's offset and the
    # clinic's zone can disagree about the calendar day near midnight.
    future_tolerance_days: int = 1


DEFAULT_POLICY = Policy()
