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


def chosen_start(  # noqa: PLR0913 - the day's free starts, then what a start is chosen by
    stretches: Iterable[Stretch],
    busy: Iterable[tuple[int, int]],
    duration_min: int,
    turnover_min: int,
    *,
    nearest_to: int | None = None,
    latest_until: int | None = None,
) -> int | None:
    """The free start `free_starts` leads to, without building its intervals: the latest at
    or before `latest_until` when given, else the nearest to `nearest_to` (the earlier of two
    equally near) when given, else the earliest; None when there is none.

    The stretches and the busy spans are given sorted by start, as a roster keeps its
    stretches (merged: they never overlap) and a day its bookings: nothing is sorted again
    for each session placed, the gaps come in order, and the scan stops as soon as no later
    one could be better."""
    before, after = duration_min + turnover_min - 1, turnover_min - 1
    forbidden = [(start - before, end + after) for start, end in busy]
    best: int | None = None
    for stretch in stretches:
        last = stretch.end_min - duration_min
        for gap_first, gap_last in _gap_list(stretch.start_min, last, forbidden):
            if latest_until is not None:
                if gap_first > latest_until:
                    return best
                best = min(gap_last, latest_until)
            elif nearest_to is not None:
                start = min(max(nearest_to, gap_first), gap_last)
                if best is None or abs(start - nearest_to) < abs(best - nearest_to):
                    best = start
                if gap_first >= nearest_to:
                    return best
            else:
                return gap_first
    return best


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
    return [
        Starts(first_free, last_free) for first_free, last_free in _gap_list(first, last, forbidden)
    ]


def _gap_list(first: int, last: int, forbidden: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """`_gaps` as (first, last) pairs: a day has a few gaps, and a list of pairs is built
    faster than they would be yielded one by one."""
    gaps = []
    cursor = first
    for forbidden_first, forbidden_last in forbidden:
        if forbidden_first > last:
            break
        if forbidden_first > cursor:
            gaps.append((cursor, forbidden_first - 1))
        if forbidden_last >= cursor:
            cursor = forbidden_last + 1
    if cursor <= last:
        gaps.append((cursor, last))
    return gaps
