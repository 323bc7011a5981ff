"""The latest eligibility decision as the periods in which no session is planned.

A period is `start <= day < end`; `end` None means "until a further clinical event".
Every decision carries all the blocks the clinical facts imply (`blocks` that hold today or
later, `history` that are over), so the periods follow from the latest decision alone:
neither the order in which decisions arrived nor the day they were made matters, and a late
fact about the past (story 9) moves the plan exactly as it would have in clinical order.
The day after a confirmed remission (R-REMISSION) is already the block's end: eligibility
ends a block no earlier than the day after its end was reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.planner.calendar import ONE_DAY

if TYPE_CHECKING:
    from datetime import date

    from schemas.eligibility import Block
    from services.planner.state import EligibilityFact


@dataclass(frozen=True, slots=True)
class BlockedPeriod:
    start: date
    end: date | None
    rules: tuple[str, ...]

    def holds_between(self, after: date, upto: date) -> bool:
        """Whether the period holds on some day in `(after, upto]`."""
        first = max(self.start, after + ONE_DAY)
        return first <= upto and (self.end is None or first < self.end)


def blocked_periods(decision: EligibilityFact | None) -> tuple[BlockedPeriod, ...]:
    """Overlapping or touching blocks join into one period naming all their rules."""
    if decision is None:
        return ()
    return _merged([_period(block) for block in (*decision.history, *decision.blocks)])


def _period(block: Block) -> BlockedPeriod:
    return BlockedPeriod(block.since, block.until, (block.rule,))


def _merged(periods: list[BlockedPeriod]) -> tuple[BlockedPeriod, ...]:
    merged: list[BlockedPeriod] = []
    for period in sorted(periods, key=lambda p: p.start):
        last = merged[-1] if merged else None
        if last is None or (last.end is not None and last.end < period.start):
            merged.append(period)
            continue
        end = None if last.end is None or period.end is None else max(last.end, period.end)
        merged[-1] = BlockedPeriod(last.start, end, tuple(sorted({*last.rules, *period.rules})))
    return tuple(merged)
