"""Eligibility decisions (in version order) as the periods in which no session is planned.

A period is `start <= day < end`; `end` None means "until a further clinical event".
- A not-eligible decision opens (or widens) a period from the earliest `since` of its
  blocks; its end is the decision's `eligible_from` (None when unknown).
- An eligible decision closes the open period. If the period's known end has come, that end
  stays (nothing changes when the predicted day arrives). Otherwise the period ends the day
  after the decision's clinical date: R-REMISSION resumes on the next open day after the
  remission became effective. The decision's clinical date is used, never `today`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.planner.calendar import ONE_DAY, ClinicCalendar

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from services.planner.commands import Block
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


def blocked_periods(
    decisions: Iterable[EligibilityFact], calendar: ClinicCalendar
) -> tuple[BlockedPeriod, ...]:
    closed: list[BlockedPeriod] = []
    current: BlockedPeriod | None = None
    for decision in decisions:
        decided_on = calendar.local_date(decision.decided_at)
        if not decision.eligible:
            opened = _period(decision.blocks, decision.eligible_from, decided_on)
            current = opened if current is None else _widen(current, opened)
            continue
        if current is not None:
            closed.append(_close(current, decided_on))
        future = tuple(b for b in decision.blocks if b.since > decided_on)
        current = _period(future, _first_free_day(future), decided_on) if future else None
    if current is not None:
        closed.append(current)
    return _merged(closed)


def _period(blocks: tuple[Block, ...], end: date | None, decided_on: date) -> BlockedPeriod:
    start = min((b.since for b in blocks), default=decided_on)
    return BlockedPeriod(start, end, tuple(sorted({b.rule for b in blocks})))


def _widen(current: BlockedPeriod, news: BlockedPeriod) -> BlockedPeriod:
    rules = tuple(sorted({*current.rules, *news.rules}))
    return BlockedPeriod(min(current.start, news.start), news.end, rules)


def _close(period: BlockedPeriod, decided_on: date) -> BlockedPeriod:
    next_day = decided_on + ONE_DAY
    if period.end is not None and period.end <= next_day:
        return period
    return BlockedPeriod(period.start, next_day, period.rules)


def _first_free_day(blocks: tuple[Block, ...]) -> date | None:
    day = min(b.since for b in blocks)
    while holding := [b for b in blocks if b.since <= day and (b.until is None or day < b.until)]:
        ends = [b.until for b in holding]
        if None in ends:
            return None
        day = max(end for end in ends if end is not None)
    return day


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
