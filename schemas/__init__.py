"""The wire contract (CONTRACT.md) as strict pydantic v2 models."""

from schemas.clinic import ClinicEvent
from schemas.codec import (
    CONTENT_TYPE,
    MAX_EVENT_BYTES,
    InvalidEvent,
    new_event,
    parse_clinic_event,
    parse_event,
    parse_staff_event,
    to_bytes,
)
from schemas.envelope import Envelope
from schemas.events import EVENT_CLASSES, TOPIC_BY_TYPE, AnyEvent, topic_for
from schemas.rules import RuleId
from schemas.schedule import ScheduleEvent
from schemas.staff import StaffEvent

__all__ = [
    "CONTENT_TYPE",
    "EVENT_CLASSES",
    "MAX_EVENT_BYTES",
    "TOPIC_BY_TYPE",
    "AnyEvent",
    "ClinicEvent",
    "Envelope",
    "InvalidEvent",
    "RuleId",
    "ScheduleEvent",
    "StaffEvent",
    "new_event",
    "parse_clinic_event",
    "parse_event",
    "parse_staff_event",
    "to_bytes",
    "topic_for",
]
