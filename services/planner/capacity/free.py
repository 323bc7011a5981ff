"""The free starts of one therapist's day, as exact intervals, and the start to take.

A session of `d` minutes may start at minute s of a stretch [from, to) iff
from <= s <= to - d (R-ROSTER), and for every booking [bs, be) of that therapist
s >= be + turnover or s + d + turnover <= bs (R-NO-OVERLAP). So each booking forbids the
starts bs - d - turnover < s < be + turnover; what is left is a few closed intervals of
whole minutes, and the start nearest to any target is the target clamped into one of them.
No minute-by-minute scanning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from services.planner.capacity.roster import Stretch


@dataclass(frozen=True, slots=True, order=True)
class Starts:
    """Every whole minute from `first` to `last`, both included."""

    first: int
    last: int

    def nearest(self, target: int) -> int:
        return min(max(target, self.first), self.last)


def free_starts(
    stretches: Iterable[Stretch],
    busy: Iterable[tuple[int, int]],
    duration_min: int,
    turnover_min: int,
) -> tuple[Starts, ...]:
    """Free starts of a day; `busy` holds [start, end) of each booking, minutes from midnight."""
    free = [
        Starts(stretch.start_min, stretch.end_min - duration_min)
        for stretch in stretches
        if stretch.end_min - stretch.start_min >= duration_min
    ]
    for start, end in busy:
        free = _without(free, start - duration_min - turnover_min + 1, end + turnover_min - 1)
    return tuple(sorted(free))


def _without(free: Sequence[Starts], first: int, last: int) -> list[Starts]:
    kept: list[Starts] = []
    for starts in free:
        if starts.first < first:
            kept.append(Starts(starts.first, min(starts.last, first - 1)))
        if starts.last > last:
            kept.append(Starts(max(starts.first, last + 1), starts.last))
    return kept


def earliest(free: Sequence[Starts]) -> int | None:
    return min((starts.first for starts in free), default=None)


def latest_until(free: Sequence[Starts], bound: int) -> int | None:
    """The latest free start at or before `bound`."""
    return max((min(s.last, bound) for s in free if s.first <= bound), default=None)


def nearest(free: Sequence[Starts], target: int) -> int | None:
    """The free start nearest to `target`; of two equally near, the earlier."""
    return min(
        (starts.nearest(target) for starts in free),
        key=lambda start: (abs(start - target), start),
        default=None,
    )
