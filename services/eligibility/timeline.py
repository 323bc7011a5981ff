"""A patient's clinical facts as one immutable value, and its JSON form for storage.

Facts are kept in a canonical order (clinical date, type, event id), so the same facts
recorded in any arrival order give equal timelines and equal JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from services.eligibility.facts import (
    ContraindicationReported,
    ContraindicationResolved,
    Fact,
    FlareReported,
    MassageCleared,
    ProfileUpdated,
    RemissionConfirmed,
    SurgeryPerformed,
)

FORMAT = 1
FACT_TYPES: dict[str, type[Fact]] = {
    "profile_updated": ProfileUpdated,
    "flare_reported": FlareReported,
    "remission_confirmed": RemissionConfirmed,
    "contraindication_reported": ContraindicationReported,
    "contraindication_resolved": ContraindicationResolved,
    "surgery_performed": SurgeryPerformed,
    "massage_cleared": MassageCleared,
}
TYPE_NAMES = {fact_type: name for name, fact_type in FACT_TYPES.items()}

F = TypeVar("F", bound=Fact)


def _canonical_order(fact: Fact) -> tuple[date, str, str]:
    return fact.clinical_on, TYPE_NAMES[type(fact)], fact.event_id


def _profile_order(profile: ProfileUpdated) -> tuple[date, datetime, str]:
    return profile.clinical_on, profile.effective_at, profile.event_id


@dataclass(frozen=True, slots=True)
class Timeline:
    facts: tuple[Fact, ...] = ()

    def find(self, event_id: str) -> Fact | None:
        return next((fact for fact in self.facts if fact.event_id == event_id), None)

    def of_type(self, fact_type: type[F]) -> tuple[F, ...]:
        return tuple(fact for fact in self.facts if isinstance(fact, fact_type))

    @property
    def enrolled(self) -> bool:
        """Facts may come before the enrolment; nothing is decided until it has come."""
        return bool(self.of_type(ProfileUpdated))

    def current_profile(self) -> ProfileUpdated | None:
        return max(self.of_type(ProfileUpdated), key=_profile_order, default=None)

    def profiles_in_force(self, first: date, last: date) -> tuple[ProfileUpdated, ...]:
        """The profiles in force on some day of `first..last`, in clinical order.

        Before the first profile, the first one is in force: the enrolment describes the
        patient whom the earlier facts concern.
        """
        profiles = sorted(self.of_type(ProfileUpdated), key=_profile_order)
        in_force_on_first = [p for p in profiles if p.clinical_on <= first][-1:] or profiles[:1]
        later = [p for p in profiles if first < p.clinical_on <= last]
        return tuple(dict.fromkeys([*in_force_on_first, *later]))

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "facts": [_fact_to_json(fact) for fact in self.facts]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timeline:
        if data.get("format") != FORMAT:
            raise ValueError("unsupported timeline format")
        timeline = cls()
        for fact_data in data["facts"]:
            timeline = record(timeline, _fact_from_json(fact_data))
        return timeline


def record(timeline: Timeline, fact: Fact) -> Timeline:
    """Add a fact; a fact whose event id is already recorded changes nothing."""
    if timeline.find(fact.event_id) is not None:
        return timeline
    return Timeline(tuple(sorted((*timeline.facts, fact), key=_canonical_order)))


def _fact_to_json(fact: Fact) -> dict[str, Any]:
    fields = {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in asdict(fact).items()
    }
    return {"type": TYPE_NAMES[type(fact)], **fields}


def _fact_from_json(data: dict[str, Any]) -> Fact:
    fields = dict(data)
    fact_type = FACT_TYPES[fields.pop("type")]
    # Field names carry their type: `*_at` is a datetime, `*_on` a date.
    for name, value in fields.items():
        if value is None:
            continue
        if name.endswith("_at"):
            fields[name] = datetime.fromisoformat(value)
        elif name.endswith("_on"):
            fields[name] = date.fromisoformat(value)
    return fact_type(**fields)
