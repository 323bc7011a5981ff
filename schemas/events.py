"""Every event type: the union over all of them and where each one is published."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

from pydantic import Field

from schemas import topics
from schemas.clinic import CLINIC_EVENT_CLASSES, ClinicEventUnion
from schemas.eligibility import EligibilityDecided
from schemas.envelope import Envelope
from schemas.notices import NoticeIssued
from schemas.schedule import SCHEDULE_EVENT_CLASSES, ScheduleEventUnion
from schemas.staff import STAFF_EVENT_CLASSES, StaffEventUnion

AnyEvent = Annotated[
    ClinicEventUnion | StaffEventUnion | EligibilityDecided | ScheduleEventUnion | NoticeIssued,
    Field(discriminator="type"),
]

_TOPIC_CLASSES: tuple[tuple[str, tuple[type[Envelope], ...]], ...] = (
    (topics.PATIENT_EVENTS, CLINIC_EVENT_CLASSES),
    (topics.STAFF_EVENTS, STAFF_EVENT_CLASSES),
    (topics.ELIGIBILITY, (EligibilityDecided,)),
    (topics.SCHEDULE, SCHEDULE_EVENT_CLASSES),
    (topics.NOTICES, (NoticeIssued,)),
)

EVENT_CLASSES: Mapping[str, type[Envelope]] = MappingProxyType(
    {cls.event_type(): cls for _, classes in _TOPIC_CLASSES for cls in classes}
)
"""Event type string -> envelope model, in contract order."""

TOPIC_BY_TYPE: Mapping[str, str] = MappingProxyType(
    {cls.event_type(): topic for topic, classes in _TOPIC_CLASSES for cls in classes}
)
"""Event type string -> default topic it is published on."""

TYPES_BY_TOPIC: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {topic: tuple(cls.event_type() for cls in classes) for topic, classes in _TOPIC_CLASSES}
)


def topic_for(event: Envelope) -> str:
    """The default topic an event belongs on."""
    return TOPIC_BY_TYPE[event.type]
