"""What the shell feeds the core: one frozen command per input event.

Every command carries the originating event id and `occurred_at`, the clinical time of the
fact (the CloudEvents `time`), never the arrival time.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from schemas.eligibility import Block
from services.planner.cadence import Cadence


class NotPerformedReason(StrEnum):
    SEVERE_PAIN = "severe_pain"
    DISCOMFORT = "discomfort"
    PATIENT_ABSENT = "patient_absent"
    CLINIC_CANCELLED = "clinic_cancelled"

    @property
    def is_pain(self) -> bool:
        return self in {NotPerformedReason.SEVERE_PAIN, NotPerformedReason.DISCOMFORT}


@dataclass(frozen=True, slots=True)
class PrescribeCourse:
    event_id: str
    occurred_at: datetime
    course_id: str
    sessions: int
    cadence: Cadence
    start_on: date
    preferred_time: time | None = None


@dataclass(frozen=True, slots=True)
class UpdateProfile:
    event_id: str
    occurred_at: datetime
    rheumatic_inflammation: bool = False
    impaired_limb_blood_supply: bool = False
    knee_painful_on_palpation: bool = False
    severe_swelling: bool = False
    clinic_id: str = ""  # whose therapists give the sessions (their roster, their bookings)


@dataclass(frozen=True, slots=True)
class EligibilityChanged:
    """A decision of eligibility: `blocks` hold today or later, `history` are over."""

    event_id: str
    occurred_at: datetime
    eligible: bool
    eligible_from: date | None
    blocks: tuple[Block, ...]
    version: int
    history: tuple[Block, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionCompleted:
    event_id: str
    occurred_at: datetime
    course_id: str
    session_id: str
    performed_at: datetime


@dataclass(frozen=True, slots=True)
class SessionNotPerformed:
    event_id: str
    occurred_at: datetime
    course_id: str
    session_id: str
    reason: NotPerformedReason


@dataclass(frozen=True, slots=True)
class PhysicalTherapyBooked:
    event_id: str
    occurred_at: datetime
    appointment_id: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class SurgeryPerformed:
    event_id: str
    occurred_at: datetime
    performed_on: date


@dataclass(frozen=True, slots=True)
class PatientWithdrawn:
    event_id: str
    occurred_at: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """A durable timer fired (next-course reminder); `decide` reads `today`."""

    event_id: str
    occurred_at: datetime


Command = (
    PrescribeCourse
    | UpdateProfile
    | EligibilityChanged
    | SessionCompleted
    | SessionNotPerformed
    | PhysicalTherapyBooked
    | SurgeryPerformed
    | PatientWithdrawn
    | Tick
)
