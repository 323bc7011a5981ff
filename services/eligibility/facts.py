"""Clinical facts the eligibility rules read: one frozen type per kind of patient event.

Every fact carries the id of the event it came from (idempotency, traceability) and its
clinical date (`clinical_on`): when it happened, not when the message arrived.

A fact that ends a block also carries `reported_on`, the clinic-local date of the reporting
event's clinical `time`: an end reported after the day it names only takes effect from the
report (nobody could give massage on the strength of a remission not yet confirmed). Being
clinical, it keeps decisions independent of the arrival order (DOMAIN.md, "Clinical time").
None (facts stored before it existed) reads as "reported on the day it names".
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeAlias, get_args

ContraindicationKind = Literal["bleeding", "acute_inflammation", "vascular_thrombosis", "fever"]
Knee = Literal["left", "right"]
CONTRAINDICATION_KINDS: tuple[str, ...] = get_args(ContraindicationKind)
KNEES: tuple[str, ...] = get_args(Knee)


def _require(condition: bool, message: str) -> None:  # noqa: FBT001
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, slots=True)
class ProfileUpdated:
    """The patient profile (an enrolment, or its re-sending), dated like any clinical fact.

    It is in force from its clinical date (`effective_on`: the clinic-local date of the
    enrolment's `time`) until a later one; on one day the latest `effective_at` wins (ties:
    event id). None (facts stored before it existed) reads as the date of `effective_at`.
    """

    event_id: str
    effective_at: datetime
    arthrosis_stage: int
    rheumatic_inflammation: bool = False
    impaired_limb_blood_supply: bool = False
    knee_painful_on_palpation: bool = False
    severe_swelling: bool = False
    effective_on: date | None = None

    def __post_init__(self) -> None:
        _require(1 <= self.arthrosis_stage <= 4, "arthrosis stage must be 1..4")
        _require(self.effective_at.tzinfo is not None, "effective_at needs a UTC offset")

    @property
    def clinical_on(self) -> date:
        return self.effective_on or self.effective_at.date()


@dataclass(frozen=True, slots=True)
class FlareReported:
    event_id: str
    started_on: date
    rheumatic: bool = False

    @property
    def clinical_on(self) -> date:
        return self.started_on


@dataclass(frozen=True, slots=True)
class RemissionConfirmed:
    """`exacerbation_ended_on` is the last day of the exacerbation."""

    event_id: str
    exacerbation_ended_on: date
    reported_on: date | None = None

    @property
    def last_day_held(self) -> date:
        """The last day the flare blocks massage: until the remission was confirmed."""
        return max(self.exacerbation_ended_on, self.reported_on or self.exacerbation_ended_on)

    @property
    def clinical_on(self) -> date:
        return self.exacerbation_ended_on


@dataclass(frozen=True, slots=True)
class ContraindicationReported:
    event_id: str
    kind: ContraindicationKind
    observed_on: date
    body_temperature_c: float | None = None

    def __post_init__(self) -> None:
        _require(self.kind in CONTRAINDICATION_KINDS, "unknown contraindication kind")

    @property
    def clinical_on(self) -> date:
        return self.observed_on


@dataclass(frozen=True, slots=True)
class ContraindicationResolved:
    """`resolved_on` is the last day the contraindication was present."""

    event_id: str
    kind: ContraindicationKind
    resolved_on: date
    reported_on: date | None = None

    def __post_init__(self) -> None:
        _require(self.kind in CONTRAINDICATION_KINDS, "unknown contraindication kind")

    @property
    def last_day_held(self) -> date:
        """The last day the contraindication blocks massage: until it was reported resolved."""
        return max(self.resolved_on, self.reported_on or self.resolved_on)

    @property
    def clinical_on(self) -> date:
        return self.resolved_on


@dataclass(frozen=True, slots=True)
class SurgeryPerformed:
    event_id: str
    performed_on: date
    knee: Knee

    def __post_init__(self) -> None:
        _require(self.knee in KNEES, "unknown knee")

    @property
    def clinical_on(self) -> date:
        return self.performed_on


@dataclass(frozen=True, slots=True)
class MassageCleared:
    """`cleared_on` is the first day a physician allows massage after surgery."""

    event_id: str
    cleared_on: date
    reported_on: date | None = None

    @property
    def first_day_allowed(self) -> date:
        """A clearance dated before its report allows massage from the report on."""
        return max(self.cleared_on, self.reported_on or self.cleared_on)

    @property
    def clinical_on(self) -> date:
        return self.cleared_on


Fact: TypeAlias = (
    ProfileUpdated
    | FlareReported
    | RemissionConfirmed
    | ContraindicationReported
    | ContraindicationResolved
    | SurgeryPerformed
    | MassageCleared
)
