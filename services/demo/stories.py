"""Demo traffic: synthetic patients living through DOMAIN.md's stories, dated around today,
in a clinic of the run's own whose roster goes out first; later one of its therapists is
absent (story 12), and the sessions that therapist would give move.

Pure: returns the events to send, in order; the runner sends and follows them.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.codec import new_event
from schemas.envelope import Envelope

SOURCE = "/clinics/demo/emr"
ROSTER_SOURCE = "/clinics/demo/roster"
THERAPISTS = 3
# Monday to Saturday, 08:00-16:00; effective a week ago, so today's plans already use it.
HOURS = [{"weekday": day, "from": "08:00", "to": "16:00"} for day in range(6)]
ROSTER_SINCE_DAYS = 7
ABSENCE_DAYS = 3


def demo_clinic() -> str:
    """A clinic of the run's own: an earlier demo's absences and bookings do not crowd it."""
    return f"demo-{uuid.uuid4().hex[:6]}"


def roster_events(clinic_id: str, today: date) -> list[tuple[str, Envelope]]:
    """(what happens, event): the clinic's therapists (opaque ids) and their weekly hours."""
    effective = today - timedelta(days=ROSTER_SINCE_DAYS)
    sent = datetime.combine(effective - timedelta(days=1), time(9), tzinfo=UTC)
    events: list[tuple[str, Envelope]] = []
    for number in range(1, THERAPISTS + 1):
        therapist = f"T-{clinic_id}-{number}"
        data = {"clinic_id": clinic_id, "therapist_id": therapist, "weekly_hours": HOURS,
                "effective_from": effective.isoformat()}  # fmt: skip
        event = new_event("clinic.therapist.rostered", source=ROSTER_SOURCE, subject=therapist,
                          data=data, time=sent)  # fmt: skip
        events.append(("rostered Mon-Sat 08:00-16:00", event))
    return events


def absence_event(clinic_id: str, therapist_id: str, from_on: date) -> tuple[str, Envelope]:
    """The therapist is sick for `ABSENCE_DAYS` days from `from_on` (R-THERAPIST-ABSENT)."""
    to_on = from_on + timedelta(days=ABSENCE_DAYS - 1)
    data = {"clinic_id": clinic_id, "therapist_id": therapist_id, "reason": "sick",
            "from_on": from_on.isoformat(), "to_on": to_on.isoformat()}  # fmt: skip
    sent = datetime.now(UTC)
    event = new_event("clinic.therapist.absent", source=ROSTER_SOURCE, subject=therapist_id,
                      data=data, time=sent)  # fmt: skip
    return f"absent {from_on.isoformat()}..{to_on.isoformat()}", event


class DemoPatient:
    def __init__(self, label: str, today: date, clinic_id: str) -> None:
        self.id = f"P-demo-{label}-{uuid.uuid4().hex[:6]}"
        self.today = today
        self.clinic_id = clinic_id

    def event(self, event_type: str, offset_days: int, data: dict[str, Any]) -> Envelope:
        on = self.today + timedelta(days=offset_days)
        return new_event(
            event_type, source=SOURCE, subject=self.id, data=data,
            time=datetime.combine(on, time(9), tzinfo=UTC),
        )  # fmt: skip

    def day(self, offset_days: int) -> str:
        return (self.today + timedelta(days=offset_days)).isoformat()

    def enrol(self, offset: int = 0, stage: int = 1, **flags: bool) -> Envelope:
        data = {"clinic_id": self.clinic_id, "arthrosis_stage": stage,
                "affected_knees": ["right"]}  # fmt: skip
        return self.event("clinic.patient.enrolled", offset, {**data, **flags})

    def prescribe(self, offset: int = 0, cadence: str = "every_other_day") -> Envelope:
        data = {"course_id": f"C-{self.id}", "sessions": 15, "cadence": cadence,
                "start_on": self.day(offset), "preferred_time": "10:00"}  # fmt: skip
        return self.event("clinic.course.prescribed", offset, data)


def story_events(today: date, clinic_id: str) -> list[tuple[str, Envelope]]:
    """(what happens, event) for a handful of patients; safe to send again with a new today."""
    plain = DemoPatient("plain", today, clinic_id)
    flare = DemoPatient("flare", today, clinic_id)
    fever = DemoPatient("fever", today, clinic_id)
    surgery = DemoPatient("surgery", today, clinic_id)
    advanced = DemoPatient("advanced", today, clinic_id)
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
