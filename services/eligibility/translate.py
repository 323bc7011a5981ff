"""Wire events → clinical facts (the anti-corruption layer between the contract and the core)."""

from schemas import clinic
from schemas.clinic import ClinicEvent
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
from services.runtime.clock import local_date


def to_fact(event: ClinicEvent, timezone: str) -> Fact | None:  # noqa: PLR0911 - one per type
    """The clinical fact an event reports, or None when it does not bear on eligibility."""
    data = event.data
    reported_on = local_date(event.time, timezone)
    match event:
        case clinic.PatientEnrolled(data=data):
            return ProfileUpdated(
                event.id, event.time, data.arthrosis_stage, data.rheumatic_inflammation,
                data.impaired_limb_blood_supply, data.knee_painful_on_palpation,
                data.severe_swelling, reported_on,
            )  # fmt: skip
        case clinic.FlareReported(data=data):
            return FlareReported(event.id, data.started_on, data.rheumatic)
        case clinic.RemissionConfirmed(data=data):
            return RemissionConfirmed(event.id, data.exacerbation_ended_on, reported_on)
        case clinic.ContraindicationReported(data=data):
            return ContraindicationReported(
                event.id, data.kind, data.observed_on, data.body_temperature_c
            )
        case clinic.ContraindicationResolved(data=data):
            return ContraindicationResolved(event.id, data.kind, data.resolved_on, reported_on)
        case clinic.SurgeryPerformed(data=data):
            return SurgeryPerformed(event.id, data.performed_on, data.knee)
        case clinic.MassageCleared(data=data):
            return MassageCleared(event.id, data.cleared_on, reported_on)
    return None
