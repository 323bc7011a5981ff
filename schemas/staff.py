"""Input events sent by clinic systems on `clinic.staff-events`: the therapists' roster.

The record key is the `clinic_id`, the `subject` the therapist id.
"""

from typing import Annotated, Literal, Self, TypeAlias

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.base import WireModel
from schemas.envelope import Envelope
from schemas.types import ClinicDate, Identifier, Items, LocalTime, TherapistId

AbsenceReason = Literal["sick", "leave", "training", "other"]


class WorkingHours(WireModel):
    """One stretch of local wall-clock hours on a weekday (0 = Monday … 6 = Sunday)."""

    # `from` is a Python keyword: the field is `from_` in Python and `from` on the wire.
    model_config = ConfigDict(serialize_by_alias=True)

    weekday: Annotated[int, Field(ge=0, le=6)]
    from_: LocalTime = Field(alias="from")
    to: LocalTime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        # "HH:MM" with leading zeros orders as text exactly as it does in time.
        if self.to <= self.from_:
            raise PydanticCustomError("range_order", "`to` must be later than `from`")
        return self


class TherapistRosteredData(WireModel):
    """Re-sending replaces the therapist's weekly hours from `effective_from` on."""

    clinic_id: Identifier
    therapist_id: TherapistId
    weekly_hours: Annotated[Items[WorkingHours], Field(min_length=1)]
    effective_from: ClinicDate


class TherapistAbsentData(WireModel):
    """Absent from `from_on` to `to_on`, both days included."""

    clinic_id: Identifier
    therapist_id: TherapistId
    from_on: ClinicDate
    to_on: ClinicDate
    reason: AbsenceReason | None = None

    @model_validator(mode="after")
    def _ends_on_or_after_it_starts(self) -> Self:
        if self.to_on < self.from_on:
            raise PydanticCustomError("range_order", "`to_on` must not be before `from_on`")
        return self


class TherapistLeftData(WireModel):
    clinic_id: Identifier
    therapist_id: TherapistId
    last_day: ClinicDate


class StaffEnvelope(Envelope):
    """The envelope of the staff topic: `subject` is the therapist id of `data`."""

    subject: TherapistId

    @model_validator(mode="after")
    def _subject_is_the_therapist(self) -> Self:
        if getattr(self.data, "therapist_id", None) != self.subject:
            raise PydanticCustomError("subject_not_therapist", "not the therapist")
        return self


class TherapistRostered(StaffEnvelope):
    type: Literal["clinic.therapist.rostered"]
    data: TherapistRosteredData


class TherapistAbsent(StaffEnvelope):
    type: Literal["clinic.therapist.absent"]
    data: TherapistAbsentData


class TherapistLeft(StaffEnvelope):
    type: Literal["clinic.therapist.left"]
    data: TherapistLeftData


StaffEventUnion: TypeAlias = TherapistRostered | TherapistAbsent | TherapistLeft
StaffEvent = Annotated[StaffEventUnion, Field(discriminator="type")]
