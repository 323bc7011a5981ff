"""Wire events → core commands (the anti-corruption layer between the contract and the core)."""

from datetime import time

from schemas import clinic
from schemas.clinic import ClinicEvent
from schemas.eligibility import EligibilityDecided
from services.planner.cadence import Cadence
from services.planner.commands import (
    Command,
    EligibilityChanged,
    NotPerformedReason,
    PatientWithdrawn,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
    SurgeryPerformed,
    UpdateProfile,
)


def to_command(event: ClinicEvent) -> Command | None:  # noqa: PLR0911 - one branch per type
    """The command a clinic event gives the planner, or None when it does not concern it.

    Flares, remissions, contraindications and clearances reach the planner as eligibility
    decisions instead, on the other topic.
    """
    match event:
        case clinic.PatientEnrolled(data=data):
            return UpdateProfile(
                event.id, event.time, data.rheumatic_inflammation,
                data.impaired_limb_blood_supply, data.knee_painful_on_palpation,
                data.severe_swelling, data.clinic_id,
            )  # fmt: skip
        case clinic.CoursePrescribed(data=data):
            preferred = (
                None if data.preferred_time is None else time.fromisoformat(data.preferred_time)
            )
            return PrescribeCourse(
                event.id, event.time, data.course_id, data.sessions, Cadence(data.cadence),
                data.start_on, preferred,
            )  # fmt: skip
        case clinic.SessionCompleted(data=data):
            return SessionCompleted(
                event.id, event.time, data.course_id, data.session_id, data.performed_at
            )
        case clinic.SessionNotPerformed(data=data):
            return SessionNotPerformed(
                event.id, event.time, data.course_id, data.session_id,
                NotPerformedReason(data.reason),
            )  # fmt: skip
        case clinic.PhysicalTherapyBooked(data=data):
            return PhysicalTherapyBooked(event.id, event.time, data.appointment_id, data.starts_at)
        case clinic.SurgeryPerformed(data=data):
            return SurgeryPerformed(event.id, event.time, data.performed_on)
        case clinic.PatientWithdrawn(data=data):
            return PatientWithdrawn(event.id, event.time, data.reason)
    return None


def eligibility_changed(event: EligibilityDecided) -> EligibilityChanged:
    data = event.data
    return EligibilityChanged(
        event.id,
        event.time,
        data.eligible,
        data.eligible_from,
        data.blocks,
        data.version,
        data.history,
    )
