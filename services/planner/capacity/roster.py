"""R-ROSTER: a clinic's roster, built from staff facts that may arrive in any order.

Per therapist it keeps weekly hours (each version from an `effective_from` date), absences
and the last day before leaving. The state depends only on the *set* of facts, never on
their arrival order (clinical order independence), so a replay or a late message gives
the same roster:

- Hours: a re-sent roster replaces the hours from its `effective_from` on. The hours in
  force on a day are those of the latest-sent roster (by `Stamp`: the event's clinical
  time, then its id) among the rosters effective on or before that day. A roster that can
  never be in force again (a later-sent one is effective no later) is dropped, so the kept
  versions, sorted by `effective_from`, are also sorted by stamp.
- Absences: inclusive date ranges, merged; the contract has no way to withdraw one.
- Leaving: the latest-sent `left` fact gives the last working day. Coming back under the
  same therapist id is not supported (a corrected `left` with a later day is).

Stretches of one weekday that overlap or touch are merged: 8:00-12:00 and 12:00-16:00 is
one stretch of continuous work.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from services.planner.capacity.clock import MINUTES_PER_DAY

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ONE_DAY = timedelta(days=1)
WEEKDAYS = 7


@dataclass(frozen=True, slots=True, order=True)
class Stamp:
    """When a staff fact was sent: the envelope's `time`, then its `id` to break ties."""

    at: datetime
    event_id: str


@dataclass(frozen=True, slots=True, order=True)
class Stretch:
    """Working minutes [start_min, end_min) of a local day."""

    start_min: int
    end_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_min < self.end_min <= MINUTES_PER_DAY:
            raise ValueError(f"not a stretch of a day: {self.start_min}-{self.end_min}")


@dataclass(frozen=True, slots=True)
class WeeklyStretch:
    weekday: int  # 0 = Monday ... 6 = Sunday
    stretch: Stretch


@dataclass(frozen=True, slots=True)
class Rostered:
    therapist_id: str
    weekly_hours: tuple[WeeklyStretch, ...]
    effective_from: date
    stamp: Stamp


@dataclass(frozen=True, slots=True)
class Absent:
    therapist_id: str
    from_on: date
    to_on: date  # included

    def covers(self, day: date) -> bool:
        return self.from_on <= day <= self.to_on


@dataclass(frozen=True, slots=True)
class Left:
    therapist_id: str
    last_day: date
    stamp: Stamp


StaffFact = Rostered | Absent | Left
Week = tuple[tuple[Stretch, ...], ...]  # indexed by weekday


@dataclass(frozen=True, slots=True)
class Hours:
    """One version of a therapist's weekly hours."""

    effective_from: date
    stamp: Stamp
    week: Week

    def supersedes(self, other: Hours) -> bool:
        return self.effective_from <= other.effective_from and self._key() > other._key()

    def _key(self) -> tuple[Stamp, Week]:
        # The week only orders two versions sent with an identical stamp: a malformed
        # redelivery still gives one deterministic answer.
        return (self.stamp, self.week)


@dataclass(frozen=True, slots=True)
class TherapistRoster:
    therapist_id: str
    hours: tuple[Hours, ...] = ()  # sorted by effective_from (and so by stamp)
    absences: tuple[Absent, ...] = ()  # merged, sorted
    left: Left | None = None

    def stretches_on(self, day: date) -> tuple[Stretch, ...]:
        """R-ROSTER: the working stretches of `day`; none when absent, gone or not yet rostered."""
        if self.left is not None and day > self.left.last_day:
            return ()
        if self.absences and any(absence.covers(day) for absence in self.absences):
            return ()
        return self.rostered_on(day)

    def rostered_on(self, day: date) -> tuple[Stretch, ...]:
        """The weekly hours in force on `day`, whether or not the therapist is absent or gone
        (what the roster says of that day, for people; `stretches_on` is when they work)."""
        for hours in reversed(self.hours):  # sorted by effective_from: the last in force
            if hours.effective_from <= day:
                return hours.week[day.weekday()]
        return ()

    def absence_on(self, day: date) -> Absent | None:
        """The (merged) absence covering `day`, if any."""
        return next((absence for absence in self.absences if absence.covers(day)), None)

    def apply(self, fact: StaffFact) -> TherapistRoster:
        if fact.therapist_id != self.therapist_id:
            raise ValueError("a fact of another therapist")
        match fact:
            case Rostered():
                return replace(self, hours=_with_hours(self.hours, _hours_of(fact)))
            case Absent():
                return replace(self, absences=_merged(self.absences, fact))
            case Left():
                # The last day only orders two facts sent with one stamp (as `Hours`).
                if self.left is None or _left_key(fact) > _left_key(self.left):
                    return replace(self, left=fact)
                return self


@dataclass(frozen=True, slots=True)
class Roster:
    """A clinic's therapists, sorted by id."""

    therapists: tuple[TherapistRoster, ...] = ()
    # Each therapist by id: assignment looks one up for every day it tries.
    by_id: Mapping[str, TherapistRoster] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {therapist.therapist_id: therapist for therapist in reversed(self.therapists)}
        object.__setattr__(self, "by_id", by_id)

    @classmethod
    def from_facts(cls, facts: Iterable[StaffFact]) -> Roster:
        roster = cls()
        for fact in facts:
            roster = roster.apply(fact)
        return roster

    @property
    def therapist_ids(self) -> tuple[str, ...]:
        return tuple(therapist.therapist_id for therapist in self.therapists)

    @property
    def is_empty(self) -> bool:
        """No hours at all: the clinic keeps date-only plans."""
        return not any(therapist.hours for therapist in self.therapists)

    def therapist(self, therapist_id: str) -> TherapistRoster | None:
        return self.by_id.get(therapist_id)

    def stretches_on(self, therapist_id: str, day: date) -> tuple[Stretch, ...]:
        therapist = self.therapist(therapist_id)
        return () if therapist is None else therapist.stretches_on(day)

    def allows(self, therapist_id: str, day: date, start_min: int, end_min: int) -> bool:
        """R-ROSTER: [start_min, end_min) lies inside one stretch the therapist works that day."""
        return any(
            stretch.start_min <= start_min and end_min <= stretch.end_min
            for stretch in self.stretches_on(therapist_id, day)
        )

    def working_on(self, day: date) -> tuple[str, ...]:
        return tuple(t.therapist_id for t in self.therapists if t.stretches_on(day))

    def apply(self, fact: StaffFact) -> Roster:
        current = self.therapist(fact.therapist_id) or TherapistRoster(fact.therapist_id)
        others = [t for t in self.therapists if t.therapist_id != fact.therapist_id]
        updated = sorted([*others, current.apply(fact)], key=lambda t: t.therapist_id)
        return Roster(tuple(updated))


def _left_key(fact: Left) -> tuple[Stamp, date]:
    return (fact.stamp, fact.last_day)


def _hours_of(fact: Rostered) -> Hours:
    week = tuple(
        _merged_stretches(ws.stretch for ws in fact.weekly_hours if ws.weekday == weekday)
        for weekday in range(WEEKDAYS)
    )
    return Hours(fact.effective_from, fact.stamp, week)


def _with_hours(kept: tuple[Hours, ...], new: Hours) -> tuple[Hours, ...]:
    """The versions that can still be in force: none is superseded by another."""
    if new in kept or any(hours.supersedes(new) for hours in kept):
        return kept
    survivors = [hours for hours in kept if not new.supersedes(hours)]
    return tuple(sorted([*survivors, new], key=lambda hours: hours.effective_from))


def _merged_stretches(stretches: Iterable[Stretch]) -> tuple[Stretch, ...]:
    merged: list[Stretch] = []
    for stretch in sorted(stretches):
        if merged and stretch.start_min <= merged[-1].end_min:
            last = merged.pop()
            merged.append(Stretch(last.start_min, max(last.end_min, stretch.end_min)))
        else:
            merged.append(stretch)
    return tuple(merged)


def _merged(absences: tuple[Absent, ...], new: Absent) -> tuple[Absent, ...]:
    merged: list[Absent] = []
    for absence in sorted([*absences, new], key=lambda a: (a.from_on, a.to_on)):
        if merged and absence.from_on <= merged[-1].to_on + ONE_DAY:
            last = merged.pop()
            merged.append(replace(last, to_on=max(last.to_on, absence.to_on)))
        else:
            merged.append(absence)
    return tuple(merged)
