"""The eligibility decision for one patient and one clinic-local day.

Semantics (also the wire meaning of `courseflow.eligibility.decided`):

- A `Block` (`schemas.eligibility.Block`) holds on the days `since <= day < until`: `until`
  is the first day the block no longer holds (exclusive). `until=None` means it holds until
  a further clinical event (e.g. a flare without a confirmed remission, a surgery without a
  clearance).
- `blocks` lists the blocks that hold on the decision day or start later (known future),
  one per rule and stretch of time (overlapping or touching stretches of a rule are joined),
  sorted by `since`, then rule ID, then `until` (open last).
- `history` lists, in the same form and order, the blocks already over by the decision day.
  With it every decision carries all the blocks the facts imply, so its reader needs only
  the latest decision: a late fact about the past (a flare reported after the remission
  that ended it) changes the decision too, and no reader depends on the order in which
  decisions or facts arrived.
- `eligible` is true when no block holds on the day.
- `eligible_from`: when not eligible, the first day after it on which no block holds, if that
  is known (every block in the way ends on a known date); None otherwise, and None when
  eligible.
- `restrictions` say how massage is given; they never block it. `advanced_stage` is the
  arthrosis stage behind `surgical_evaluation_advised` (R-ADVANCED-STAGE), None without it:
  a change of advanced stage (3 to 4) is a new decision, so staff hear of each stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from schemas.eligibility import Block

if TYPE_CHECKING:
    from schemas.rules import RuleId


@dataclass(frozen=True, slots=True)
class Decision:
    eligible: bool
    eligible_from: date | None
    blocks: tuple[Block, ...]
    restrictions: frozenset[str]
    history: tuple[Block, ...] = ()
    advanced_stage: int | None = None

    @property
    def rules(self) -> tuple[str, ...]:
        """Rule IDs behind the decision, for logs and notices."""
        return tuple(sorted({block.rule for block in self.blocks}))

    def to_json(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "eligible_from": _iso(self.eligible_from),
            "blocks": [b.model_dump(mode="json") for b in self.blocks],
            "restrictions": sorted(self.restrictions),
            "history": [b.model_dump(mode="json") for b in self.history],
        } | ({} if self.advanced_stage is None else {"advanced_stage": self.advanced_stage})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        return cls(
            eligible=data["eligible"],
            eligible_from=_date(data["eligible_from"]),
            blocks=tuple(Block.model_validate(b) for b in data["blocks"]),
            restrictions=frozenset(data["restrictions"]),
            # Decisions stored before `history` existed read as having none.
            history=tuple(Block.model_validate(b) for b in data.get("history", ())),
            advanced_stage=data.get("advanced_stage"),
        )


def decision_changed(old: Decision | None, new: Decision) -> bool:
    return old != new


def block_order(block: Block) -> tuple[date, str, bool, date]:
    return block.since, block.rule, block.until is None, block.until or date.min


def join_stretches(rule: RuleId, stretches: list[tuple[date, date | None]]) -> list[Block]:
    """One block per rule and stretch of time: overlapping or touching stretches join."""
    joined: list[Block] = []
    for since, until in sorted(stretches, key=lambda s: (s[0], s[1] is None, s[1] or date.min)):
        if until is not None and until <= since:
            continue
        last = joined[-1] if joined else None
        if last is None or (last.until is not None and last.until < since):
            joined.append(Block(rule=rule, since=since, until=until))
        elif last.until is not None and (until is None or until > last.until):
            joined[-1] = Block(rule=rule, since=last.since, until=until)
    return joined


def first_free_day(blocks: tuple[Block, ...], day: date) -> date | None:
    """First day from `day` on which no block holds; None if an open block is in the way."""
    while holding := [block for block in blocks if block.holds_on(day)]:
        ends = [block.until for block in holding]
        if None in ends:
            return None
        day = max(end for end in ends if end is not None)
    return day


def decide(
    blocks: tuple[Block, ...],
    restrictions: frozenset[str],
    today: date,
    advanced_stage: int | None = None,
) -> Decision:
    ordered = sorted(blocks, key=block_order)
    relevant = tuple(b for b in ordered if not b.over_by(today))
    history = tuple(b for b in ordered if b.over_by(today))
    eligible = not any(block.holds_on(today) for block in relevant)
    eligible_from = None if eligible else first_free_day(relevant, today)
    return Decision(eligible, eligible_from, relevant, restrictions, history, advanced_stage)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
