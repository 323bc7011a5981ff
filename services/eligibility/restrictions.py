"""How massage is given (never whether): flags from the current patient profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from schemas.rules import RuleId
from services.eligibility.facts import ProfileUpdated
from services.eligibility.policy import Policy

if TYPE_CHECKING:
    from services.eligibility.timeline import Timeline

ProfileRule = Callable[[ProfileUpdated, Policy], bool]

# restriction -> (rule ID, when it applies)
RESTRICTION_RULES: dict[str, tuple[RuleId, ProfileRule]] = {
    "no_direct_knee_work": (RuleId.NO_KNEE_WHEN_PAINFUL, lambda p, _: p.knee_painful_on_palpation),
    "hemodynamic_techniques": (RuleId.HEMODYNAMICS, lambda p, _: p.impaired_limb_blood_supply),
    "in_water": (RuleId.IN_WATER, lambda p, _: p.severe_swelling),
    "surgical_evaluation_advised": (
        RuleId.ADVANCED_STAGE,
        lambda p, policy: p.arthrosis_stage >= policy.advanced_stage_from,
    ),
}


def restrictions(timeline: Timeline, policy: Policy) -> frozenset[str]:
    profile = timeline.current_profile()
    if profile is None:
        return frozenset()
    return frozenset(
        name for name, (_rule, applies) in RESTRICTION_RULES.items() if applies(profile, policy)
    )


def advanced_stage(timeline: Timeline, policy: Policy) -> int | None:
    """R-ADVANCED-STAGE: the stage surgical evaluation is advised for, if it is."""
    profile = timeline.current_profile()
    if profile is None or profile.arthrosis_stage < policy.advanced_stage_from:
        return None
    return profile.arthrosis_stage
