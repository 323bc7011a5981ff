"""`courseflow.eligibility.decided` on `courseflow.eligibility`."""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from schemas.base import WireModel
from schemas.envelope import Envelope
from schemas.rules import Rule
from schemas.types import ClinicDate, Items, UniqueItems, is_none

Restriction = Literal[
    "no_direct_knee_work",
    "hemodynamic_techniques",
    "in_water",
    "surgical_evaluation_advised",
]


class Block(WireModel):
    """One rule that stops massage; `until` is null while its end is unknown."""

    # It holds on the days `since <= day < until`: `until` is the first free day.
    rule: Rule
    since: ClinicDate
    until: ClinicDate | None

    def holds_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)

    def over_by(self, day: date) -> bool:
        return self.until is not None and self.until <= day


class EligibilityDecidedData(WireModel):
    """`eligible` holds for the clinic-local date of the decision.

    `history` (optional, added to the contract): the blocks already over by that date, so
    that the latest decision alone carries every block the clinical facts imply.

    `advanced_stage` (optional, added): the arthrosis stage for which
    `surgical_evaluation_advised` holds (R-ADVANCED-STAGE), so that staff are told once per
    patient and stage; left out when that restriction does not hold.
    """

    eligible: bool
    eligible_from: ClinicDate | None
    blocks: Items[Block]
    restrictions: UniqueItems[Restriction]
    version: Annotated[int, Field(ge=1)]
    history: Items[Block] = ()
    advanced_stage: Annotated[int, Field(ge=1, le=4)] | None = Field(
        default=None, exclude_if=is_none
    )


class EligibilityDecided(Envelope):
    type: Literal["courseflow.eligibility.decided"]
    data: EligibilityDecidedData
