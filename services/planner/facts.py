"""Recording a command's clinical fact into the state, canonically and idempotently."""

from __future__ import annotations

from dataclasses import replace

from schemas.rules import RuleId
from services.planner.commands import (
    Command,
    EligibilityChanged,
    PatientWithdrawn,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
    SurgeryPerformed,
    Tick,
    UpdateProfile,
)
from services.planner.notes import Profile
from services.planner.state import (
    Attempt,
    Cancellation,
    EligibilityFact,
    PatientState,
    PhysicalTherapy,
    Prescription,
    ProfileFact,
)

SURGERY_REASON = "knee endoprosthesis surgery: no massage in the early postoperative period"
WITHDRAWN_REASON = "patient withdrawn"


def record(state: PatientState, command: Command) -> PatientState:  # noqa: PLR0911
    match command:
        case PrescribeCourse():
            return _record_prescription(state, command)
        case UpdateProfile():
            return _record_profile(state, command)
        case EligibilityChanged():
            return _record_eligibility(state, command)
        case SessionCompleted():
            attempt = Attempt(
                command.event_id,
                command.performed_at,
                command.course_id,
                command.session_id,
                None,
            )
            return _record_attempt(state, attempt)
        case SessionNotPerformed():
            attempt = Attempt(
                command.event_id,
                command.occurred_at,
                command.course_id,
                command.session_id,
                command.reason,
            )
            return _record_attempt(state, attempt)
        case PhysicalTherapyBooked():
            return _record_physical_therapy(state, command)
        case SurgeryPerformed():
            cancellation = Cancellation(
                command.event_id, command.occurred_at, SURGERY_REASON, RuleId.POSTOP,
                command.performed_on,
            )  # fmt: skip
            return _record_cancellation(state, cancellation)
        case PatientWithdrawn():
            reason = WITHDRAWN_REASON if command.reason is None else command.reason
            cancellation = Cancellation(command.event_id, command.occurred_at, reason, None)
            return _record_cancellation(state, cancellation)
        case Tick():
            return state


def _record_prescription(state: PatientState, command: PrescribeCourse) -> PatientState:
    prescription = Prescription(
        command.event_id,
        command.occurred_at,
        command.course_id,
        command.sessions,
        command.cadence,
        command.start_on,
        command.preferred_time,
    )
    # The first prescription of a course id (in clinical order) wins, whatever arrives later.
    others = [p for p in state.prescriptions if p.course_id != command.course_id]
    same = [p for p in state.prescriptions if p.course_id == command.course_id]
    first = min([*same, prescription], key=lambda p: (p.prescribed_at, p.event_id))
    ordered = sorted([*others, first], key=lambda p: (p.prescribed_at, p.event_id))
    return replace(state, prescriptions=tuple(ordered))


def _record_profile(state: PatientState, command: UpdateProfile) -> PatientState:
    profile = Profile(
        command.rheumatic_inflammation,
        command.impaired_limb_blood_supply,
        command.knee_painful_on_palpation,
        command.severe_swelling,
    )
    fact = ProfileFact(command.event_id, command.occurred_at, profile, command.clinic_id)
    current = state.profile
    if current is not None and (current.occurred_at, current.event_id) >= (
        fact.occurred_at,
        fact.event_id,
    ):
        return state
    return replace(state, profile=fact)


def _record_eligibility(state: PatientState, command: EligibilityChanged) -> PatientState:
    # Only the latest decision counts: it carries every block, past ones in its history.
    if command.version <= state.eligibility_version:
        return state
    fact = EligibilityFact(command.version, command.eligible, command.blocks, command.history)
    return replace(state, eligibility=fact)


def _record_attempt(state: PatientState, attempt: Attempt) -> PatientState:
    if any(a.event_id == attempt.event_id for a in state.attempts):
        return state
    ordered = sorted([*state.attempts, attempt], key=lambda a: (a.at, a.event_id))
    return replace(state, attempts=tuple(ordered))


def _record_physical_therapy(state: PatientState, command: PhysicalTherapyBooked) -> PatientState:
    booking = PhysicalTherapy(
        command.event_id, command.occurred_at, command.appointment_id, command.starts_at
    )
    same = [b for b in state.physical_therapy if b.appointment_id == booking.appointment_id]
    others = [b for b in state.physical_therapy if b.appointment_id != booking.appointment_id]
    # A re-booking of the same appointment replaces it: the latest in clinical order wins.
    latest = max([*same, booking], key=lambda b: (b.occurred_at, b.event_id))
    ordered = sorted([*others, latest], key=lambda b: (b.starts_at, b.appointment_id))
    return replace(state, physical_therapy=tuple(ordered))


def _record_cancellation(state: PatientState, cancellation: Cancellation) -> PatientState:
    if any(c.event_id == cancellation.event_id for c in state.cancellations):
        return state
    ordered = sorted([*state.cancellations, cancellation], key=lambda c: (c.at, c.event_id))
    return replace(state, cancellations=tuple(ordered))
