"""The planner's own topic `courseflow.planner-commands` (not part of the contract): a staff
change tells each patient whose bookings it hits to have those courses placed again, and a
patient's decision that gives up bookings tells the clinic's patients whose courses wait
for capacity (R-CAPACITY).

The clinic's batch never waits for a patient's lock (it holds its clinic's): it only
publishes these, keyed by patient id, and each patient's batch places again under its own
locks, in the lock order of `services.runtime.pipeline`.
"""

from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from schemas.base import WireModel
from schemas.causes import Cause
from schemas.codec import new_event
from schemas.envelope import Envelope
from schemas.types import Identifier, Items, TherapistId
from services.runtime.decider import Rejected
from services.runtime.outbox import OutboxMessage
from services.runtime.wire import outbox_message

NOT_A_COMMAND = "not a planner command"


class SessionsUnstaffedData(WireModel):
    clinic_id: Identifier
    therapist_id: TherapistId | None = None  # the staff change's; none for R-CAPACITY
    rule: Literal["R-THERAPIST-ABSENT", "R-ROSTER", "R-CAPACITY"]
    course_ids: Items[Identifier]


class SessionsUnstaffed(Envelope):
    """Courses of the patient (`subject`) to place again: sessions the therapist can no
    longer give, hours rostered, or bookings another patient gave up (`rule`)."""

    type: Literal["courseflow.planner.sessions_unstaffed"]
    data: SessionsUnstaffedData


def decode_planner_command(raw: bytes) -> SessionsUnstaffed | Rejected:
    try:
        return SessionsUnstaffed.model_validate_json(raw)
    except ValidationError:
        return Rejected(NOT_A_COMMAND)


def place_again(  # noqa: PLR0913 - what it asks, then the command's topic and envelope
    patient_id: str,
    data: SessionsUnstaffedData,
    *,
    topic: str,
    source: str,
    cause: Cause,
    at: datetime,
) -> OutboxMessage:
    """The command telling `patient_id`'s batch to place `data.course_ids` again."""
    event = new_event(
        SessionsUnstaffed, source=source, subject=patient_id, time=at,
        data=data.model_dump(mode="json", exclude_none=True), **cause.attributes(),
    )  # fmt: skip
    return outbox_message(topic, event)
