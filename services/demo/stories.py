"""Demo traffic: synthetic patients living through DOMAIN.md's stories, dated around today.

Pure: returns the events to send, in order; the runner sends and follows them.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.codec import new_event
from schemas.envelope import Envelope

SOURCE = "/clinics/demo/emr"


class DemoPatient:
    def __init__(self, label: str, today: date) -> None:
        self.id = f"P-demo-{label}-{uuid.uuid4().hex[:6]}"
        self.today = today

    def event(self, event_type: str, offset_days: int, data: dict[str, Any]) -> Envelope:
        on = self.today + timedelta(days=offset_days)
        return new_event(
            event_type, source=SOURCE, subject=self.id, data=data,
            time=datetime.combine(on, time(9), tzinfo=UTC),
        )  # fmt: skip

    def day(self, offset_days: int) -> str:
        return (self.today + timedelta(days=offset_days)).isoformat()

    def enrol(self, offset: int = 0, stage: int = 1, **flags: bool) -> Envelope:
        data = {"clinic_id": "demo", "arthrosis_stage": stage, "affected_knees": ["right"]}
        return self.event("clinic.patient.enrolled", offset, {**data, **flags})

    def prescribe(self, offset: int = 0, cadence: str = "every_other_day") -> Envelope:
        data = {"course_id": f"C-{self.id}", "sessions": 15, "cadence": cadence,
                "start_on": self.day(offset), "preferred_time": "10:00"}  # fmt: skip
        return self.event("clinic.course.prescribed", offset, data)


def story_events(today: date) -> list[tuple[str, Envelope]]:
    """(what happens, event) for a handful of patients; safe to send again with a new today."""
    plain = DemoPatient("plain", today)
    flare = DemoPatient("flare", today)
    fever = DemoPatient("fever", today)
    surgery = DemoPatient("surgery", today)
    advanced = DemoPatient("advanced", today)
    return [
        ("enrolled, stage 1", plain.enrol(-1)),
        ("course of 15 every other day", plain.prescribe(0)),
        ("enrolled, painful knee", flare.enrol(-1, knee_painful_on_palpation=True)),
        ("daily course", flare.prescribe(0, cadence="daily")),
        ("flare reported", flare.event("clinic.flare.reported", 0, {"started_on": flare.day(0)})),
        ("remission confirmed", flare.event("clinic.remission.confirmed", 0,
                                            {"exacerbation_ended_on": flare.day(0)})),
        ("enrolled", fever.enrol(-1)),
        ("course prescribed", fever.prescribe(0)),
        ("fever 38.2 °C", fever.event("clinic.contraindication.reported", 0,
                                      {"kind": "fever", "observed_on": fever.day(0),
                                       "body_temperature_c": 38.2})),
        ("enrolled, severe swelling", surgery.enrol(-20, severe_swelling=True)),
        ("course prescribed", surgery.prescribe(-10)),
        ("knee replacement", surgery.event("clinic.surgery.performed", -5,
                                           {"procedure": "knee_endoprosthesis", "knee": "right",
                                            "performed_on": surgery.day(-5)})),
        ("rehab massage cleared", surgery.event("clinic.rehab.massage_cleared", 0,
                                                {"cleared_on": surgery.day(0)})),
        ("enrolled, stage 3", advanced.enrol(-1, stage=3)),
    ]  # fmt: skip
