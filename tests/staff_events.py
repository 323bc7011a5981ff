"""Builders of wire-format staff events (`clinic.staff-events`), as a roster system sends them."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from schemas.codec import new_event
from schemas.staff import TherapistAbsent, TherapistLeft, TherapistRostered

Hours = list[tuple[int, str, str]]  # (weekday, from, to)
MONDAY_MORNINGS: Hours = [(0, "08:00", "12:00"), (0, "13:00", "17:00")]


@dataclass
class StaffFeed:
    """Events of one clinic; each is sent at 09:00 UTC of the day before it takes effect,
    plus `later_min` minutes (a re-sent roster is later than the one it replaces)."""

    clinic: str = field(default_factory=lambda: f"K-{uuid.uuid4().hex[:8]}")

    @property
    def source(self) -> str:
        return f"/clinics/{self.clinic}/roster"

    def rostered(
        self, therapist: str, effective_from: date, hours: Hours = MONDAY_MORNINGS,
        later_min: int = 0,
    ) -> TherapistRostered:  # fmt: skip
        weekly = [{"weekday": d, "from": start, "to": end} for d, start, end in hours]
        data = {"clinic_id": self.clinic, "therapist_id": therapist, "weekly_hours": weekly,
                "effective_from": effective_from.isoformat()}  # fmt: skip
        return new_event(
            TherapistRostered, source=self.source, subject=therapist, data=data,
            time=_sent(effective_from, later_min),
        )  # fmt: skip

    def absent(self, therapist: str, from_on: date, to_on: date) -> TherapistAbsent:
        data = {"clinic_id": self.clinic, "therapist_id": therapist, "reason": "sick",
                "from_on": from_on.isoformat(), "to_on": to_on.isoformat()}  # fmt: skip
        return new_event(
            TherapistAbsent, source=self.source, subject=therapist, data=data,
            time=_sent(from_on),
        )  # fmt: skip

    def left(self, therapist: str, last_day: date) -> TherapistLeft:
        data = {"clinic_id": self.clinic, "therapist_id": therapist,
                "last_day": last_day.isoformat()}  # fmt: skip
        return new_event(
            TherapistLeft, source=self.source, subject=therapist, data=data, time=_sent(last_day)
        )


def _sent(on: date, later_min: int = 0) -> datetime:
    day_before = datetime.combine(on - timedelta(days=1), time(9), tzinfo=UTC)
    return day_before + timedelta(minutes=later_min)
