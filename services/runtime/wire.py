"""The contract's codec seen from the runtime: bad input becomes a value-free `Rejected`."""

from schemas.clinic import ClinicEvent
from schemas.codec import InvalidEvent, parse_clinic_event, parse_event, parse_staff_event, to_bytes
from schemas.envelope import Envelope
from schemas.events import AnyEvent
from schemas.staff import StaffEvent
from services.runtime.decider import Rejected
from services.runtime.outbox import OutboxMessage


def decode_clinic_event(raw: bytes) -> ClinicEvent | Rejected:
    try:
        return parse_clinic_event(raw)
    except InvalidEvent as exc:
        return Rejected(exc.reason)


def decode_staff_event(raw: bytes) -> StaffEvent | Rejected:
    try:
        return parse_staff_event(raw)
    except InvalidEvent as exc:
        return Rejected(exc.reason)


def decode_any_event(raw: bytes) -> AnyEvent | Rejected:
    try:
        return parse_event(raw)
    except InvalidEvent as exc:
        return Rejected(exc.reason)


def outbox_message(topic: str, event: Envelope) -> OutboxMessage:
    """Keyed by the patient id, so each patient's events stay in order on one partition."""
    return OutboxMessage(topic=topic, key=event.subject.encode(), value=to_bytes(event))
