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
    forbidden = sorted(
        (start - duration_min - turnover_min + 1, end + turnover_min - 1) for start, end in busy
    )
    free: list[Starts] = []
    for stretch in sorted(stretches):
        free += _gaps(stretch.start_min, stretch.end_min - duration_min, forbidden)
    return tuple(free)


def free_time(
    stretches: Iterable[Stretch], busy: Iterable[tuple[int, int]], turnover_min: int
) -> tuple[Starts, ...]:
    """The free time of a day: the spans [first, last] in which a session may lie whole.

    A span holds a session of `d` minutes iff last - first >= d (then it may start from
    `first` to `last - d`, as `free_starts` says): the free starts of a session of no
    length, without the spans too short for any.
    """
    return tuple(s for s in free_starts(stretches, busy, 0, turnover_min) if s.first < s.last)


def _gaps(first: int, last: int, forbidden: Sequence[tuple[int, int]]) -> list[Starts]:
    """The parts of [first, last] outside every forbidden range (sorted by their start)."""
    gaps: list[Starts] = []
    cursor = first
    for forbidden_first, forbidden_last in forbidden:
        if forbidden_first > last:
            break
        if forbidden_first > cursor:
            gaps.append(Starts(cursor, forbidden_first - 1))
        cursor = max(cursor, forbidden_last + 1)
    if cursor <= last:
        gaps.append(Starts(cursor, last))
    return gaps


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
