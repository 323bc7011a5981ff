"""Evaluate a patient's timeline: the decision for a day, and when time alone changes it.

Pure and deterministic: the result depends only on the set of facts, the day and the
policy, so any arrival order of the same facts gives the same decision (DOMAIN.md,
"Clinical time"). Block and date semantics: see `services.eligibility.decision`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.eligibility.decision import Decision, decide, decision_changed, join_stretches
from services.eligibility.restrictions import advanced_stage, restrictions
from services.eligibility.rules import BLOCK_RULES

if TYPE_CHECKING:
    from datetime import date

    from schemas.eligibility import Block
    from services.eligibility.policy import Policy
    from services.eligibility.timeline import Timeline


def all_blocks(timeline: Timeline, policy: Policy) -> tuple[Block, ...]:
    """Every block the facts imply, past, present and future."""
    return tuple(
        block
        for rule_id, rule in BLOCK_RULES.items()
        for block in join_stretches(rule_id, list(rule(timeline, policy)))
    )


def evaluate(timeline: Timeline, today: date, policy: Policy) -> Decision:
    return decide(
        all_blocks(timeline, policy),
        restrictions(timeline, policy),
        today,
        advanced_stage(timeline, policy),
    )


def next_change_on(timeline: Timeline, today: date, policy: Policy) -> date | None:
    """The first day after `today` whose decision differs, if no new fact arrives.

    Decisions only change where a block starts or ends, so those days are the candidates.
    """
    blocks = all_blocks(timeline, policy)
    boundaries = {block.since for block in blocks} | {
        block.until for block in blocks if block.until is not None
    }
    current = decide(
        blocks, restrictions(timeline, policy), today, advanced_stage(timeline, policy)
    )
    for day in sorted(boundary for boundary in boundaries if boundary > today):
        later = decide(blocks, current.restrictions, day, current.advanced_stage)
        if decision_changed(current, later):
            return day
    return None
