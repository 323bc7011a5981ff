"""Every event type: the union over all of them and where each one is published."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, get_args

from pydantic import Field

from schemas import topics
from schemas.clinic import ClinicEventUnion
from schemas.eligibility import EligibilityDecided
from schemas.envelope import Envelope
from schemas.notices import NoticeIssued
from schemas.schedule import ScheduleEventUnion
from schemas.staff import StaffEventUnion

AnyEvent = Annotated[
    ClinicEventUnion | StaffEventUnion | EligibilityDecided | ScheduleEventUnion | NoticeIssued,
    Field(discriminator="type"),
]

CLASSES_BY_TOPIC: Mapping[str, tuple[type[Envelope], ...]] = MappingProxyType(
    {
        topics.PATIENT_EVENTS: get_args(ClinicEventUnion),
        topics.STAFF_EVENTS: get_args(StaffEventUnion),
        topics.ELIGIBILITY: (EligibilityDecided,),
        topics.SCHEDULE: get_args(ScheduleEventUnion),
        topics.NOTICES: (NoticeIssued,),
    }
)
"""Topic -> the envelope models published on it, in contract order."""

EVENT_CLASSES: Mapping[str, type[Envelope]] = MappingProxyType(
    {cls.event_type(): cls for classes in CLASSES_BY_TOPIC.values() for cls in classes}
)
"""Event type string -> envelope model, in contract order."""

TOPIC_BY_TYPE: Mapping[str, str] = MappingProxyType(
    {cls.event_type(): topic for topic, classes in CLASSES_BY_TOPIC.items() for cls in classes}
)
"""Event type string -> default topic it is published on."""

TYPES_BY_TOPIC: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        topic: tuple(cls.event_type() for cls in classes)
        for topic, classes in CLASSES_BY_TOPIC.items()
    }
)


def topic_for(event: Envelope) -> str:
    """The default topic an event belongs on."""
    return TOPIC_BY_TYPE[event.type]
