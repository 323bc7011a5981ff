"""The planner's own topic `courseflow.planner-commands` (not part of the contract): a staff
change tells each patient whose bookings it hits to have those courses placed again.

The clinic's batch never waits for a patient's lock (it holds its clinic's): it only
publishes these, keyed by patient id, and each patient's batch places again under its own
locks, in the lock order of `services.runtime.pipeline`.
"""

from typing import Literal

from pydantic import ValidationError

from schemas.base import WireModel
from schemas.envelope import Envelope
from schemas.types import Identifier, Items, TherapistId
from services.runtime.decider import Rejected

NOT_A_COMMAND = "not a planner command"


class SessionsUnstaffedData(WireModel):
    clinic_id: Identifier
    therapist_id: TherapistId
    rule: Literal["R-THERAPIST-ABSENT", "R-ROSTER"]
    course_ids: Items[Identifier]


class SessionsUnstaffed(Envelope):
    """Sessions of the patient (`subject`) the therapist can no longer give."""

    type: Literal["courseflow.planner.sessions_unstaffed"]
    data: SessionsUnstaffedData


def decode_planner_command(raw: bytes) -> SessionsUnstaffed | Rejected:
    try:
        return SessionsUnstaffed.model_validate_json(raw)
    except ValidationError:
        return Rejected(NOT_A_COMMAND)
