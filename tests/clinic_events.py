"""Builders of wire-format clinic events, as a clinic system would send them."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from schemas.codec import new_event, to_bytes
from schemas.envelope import Envelope


@dataclass
class ClinicFeed:
    """Events for one patient; each event's clinical time is the morning of its date."""

    patient: str = field(default_factory=lambda: f"P-{uuid.uuid4().hex[:10]}")
    source: str = "/clinics/north/emr"
    clinic_id: str = "north"  # whose roster, if it has one, gives the sessions

    def event(self, event_type: str, on: date, data: dict[str, Any], **extra: Any) -> Envelope:
        return new_event(
            event_type,
            source=self.source,
            subject=self.patient,
            data=data,
            time=datetime.combine(on, time(9), tzinfo=UTC),
            id=extra.pop("id", None),
            correlationid=extra.pop("correlationid", None),
        )

    def enrolled(self, on: date, stage: int = 1, **flags: bool) -> Envelope:
        data = {"clinic_id": self.clinic_id, "arthrosis_stage": stage, "affected_knees": ["right"]}
        return self.event("clinic.patient.enrolled", on, {**data, **flags})

    def flare(self, on: date, *, rheumatic: bool = False) -> Envelope:
        return self.event(
            "clinic.flare.reported", on, {"started_on": on.isoformat(), "rheumatic": rheumatic}
        )

    def remission(self, on: date, ended_on: date) -> Envelope:
        data = {"exacerbation_ended_on": ended_on.isoformat()}
        return self.event("clinic.remission.confirmed", on, data)

    def contraindication(self, on: date, kind: str, temperature: float | None = None) -> Envelope:
        data: dict[str, Any] = {"kind": kind, "observed_on": on.isoformat()}
        if temperature is not None:
            data["body_temperature_c"] = temperature
        return self.event("clinic.contraindication.reported", on, data)

    def resolved(self, on: date, kind: str) -> Envelope:
        data = {"kind": kind, "resolved_on": on.isoformat()}
        return self.event("clinic.contraindication.resolved", on, data)

    def surgery(self, on: date, knee: str = "right") -> Envelope:
        data = {"procedure": "knee_endoprosthesis", "knee": knee, "performed_on": on.isoformat()}
        return self.event("clinic.surgery.performed", on, data)

    def cleared(self, on: date) -> Envelope:
        return self.event("clinic.rehab.massage_cleared", on, {"cleared_on": on.isoformat()})

    def prescribed(
        self, on: date, course_id: str, *, sessions: int = 15, cadence: str = "every_other_day"
    ) -> Envelope:
        data = {"course_id": course_id, "sessions": sessions, "cadence": cadence,
                "start_on": on.isoformat()}  # fmt: skip
        return self.event("clinic.course.prescribed", on, data)


def wire(event: Envelope) -> tuple[bytes, bytes]:
    """(key, value) as they go on `clinic.patient-events`."""
    return event.subject.encode(), to_bytes(event)
