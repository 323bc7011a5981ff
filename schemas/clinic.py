"""Input events sent by clinic systems on `clinic.patient-events`."""

from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from schemas.base import WireModel
from schemas.envelope import Envelope
from schemas.types import ClinicDate, Identifier, Knee, Knees, LocalTime, OneLine, Timestamp

Cadence = Literal["daily", "every_other_day"]
ContraindicationKind = Literal["bleeding", "acute_inflammation", "vascular_thrombosis", "fever"]
NotPerformedReason = Literal["severe_pain", "discomfort", "patient_absent", "clinic_cancelled"]
Procedure = Literal["knee_endoprosthesis"]


class PatientEnrolledData(WireModel):
    """The patient profile; re-sending it updates the profile."""

    clinic_id: Identifier
    arthrosis_stage: Annotated[int, Field(ge=1, le=4)]
    affected_knees: Knees
    rheumatic_inflammation: bool = False
    impaired_limb_blood_supply: bool = False
    knee_painful_on_palpation: bool = False
    severe_swelling: bool = False


class CoursePrescribedData(WireModel):
    course_id: Identifier
    sessions: Annotated[int, Field(ge=15, le=20)]
    cadence: Cadence
    start_on: ClinicDate
    preferred_time: LocalTime | None = None


class FlareReportedData(WireModel):
    started_on: ClinicDate
    rheumatic: bool = False


class RemissionConfirmedData(WireModel):
    exacerbation_ended_on: ClinicDate


class ContraindicationReportedData(WireModel):
    kind: ContraindicationKind
    observed_on: ClinicDate
    body_temperature_c: Annotated[float, Field(ge=25, le=45)] | None = None


class ContraindicationResolvedData(WireModel):
    kind: ContraindicationKind
    resolved_on: ClinicDate


class SurgeryPerformedData(WireModel):
    procedure: Procedure
    knee: Knee
    performed_on: ClinicDate


class MassageClearedData(WireModel):
    cleared_on: ClinicDate


class PhysicalTherapyBookedData(WireModel):
    appointment_id: Identifier
    starts_at: Timestamp


class SessionCompletedData(WireModel):
    course_id: Identifier
    session_id: Identifier
    performed_at: Timestamp


class SessionNotPerformedData(WireModel):
    course_id: Identifier
    session_id: Identifier
    reason: NotPerformedReason


class PatientWithdrawnData(WireModel):
    reason: OneLine | None = None


class PatientEnrolled(Envelope):
    type: Literal["clinic.patient.enrolled"]
    data: PatientEnrolledData


class CoursePrescribed(Envelope):
    type: Literal["clinic.course.prescribed"]
    data: CoursePrescribedData


class FlareReported(Envelope):
    type: Literal["clinic.flare.reported"]
    data: FlareReportedData


class RemissionConfirmed(Envelope):
    type: Literal["clinic.remission.confirmed"]
    data: RemissionConfirmedData


class ContraindicationReported(Envelope):
    type: Literal["clinic.contraindication.reported"]
    data: ContraindicationReportedData


class ContraindicationResolved(Envelope):
    type: Literal["clinic.contraindication.resolved"]
    data: ContraindicationResolvedData


class SurgeryPerformed(Envelope):
    type: Literal["clinic.surgery.performed"]
    data: SurgeryPerformedData


class MassageCleared(Envelope):
    type: Literal["clinic.rehab.massage_cleared"]
    data: MassageClearedData


class PhysicalTherapyBooked(Envelope):
    type: Literal["clinic.physical_therapy.booked"]
    data: PhysicalTherapyBookedData


class SessionCompleted(Envelope):
    type: Literal["clinic.session.completed"]
    data: SessionCompletedData


class SessionNotPerformed(Envelope):
    type: Literal["clinic.session.not_performed"]
    data: SessionNotPerformedData


class PatientWithdrawn(Envelope):
    type: Literal["clinic.patient.withdrawn"]
    data: PatientWithdrawnData


ClinicEventUnion: TypeAlias = (
    PatientEnrolled
    | CoursePrescribed
    | FlareReported
    | RemissionConfirmed
    | ContraindicationReported
    | ContraindicationResolved
    | SurgeryPerformed
    | MassageCleared
    | PhysicalTherapyBooked
    | SessionCompleted
    | SessionNotPerformed
    | PatientWithdrawn
)
ClinicEvent = Annotated[ClinicEventUnion, Field(discriminator="type")]
