"""The clinic side of the end-to-end stories: its calendar and the events its systems send.

The services run on the real clock, so every story is laid out around the clinic's real
today: courses that must already have sessions behind them started in the past, and the
calendar here (DOMAIN.md's default: Monday to Saturday open, no holidays) finds the start
day that puts a story's clinical facts where the story needs them.
"""

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schemas.envelope import Envelope
from services.runtime.clock import SystemClock, local_today
from tests.clinic_events import ClinicFeed

ZONE = "Europe/Berlin"
CLINIC_TZ = ZoneInfo(ZONE)
SUNDAY = 6
ONE_DAY = timedelta(days=1)

Session = dict[str, Any]


def today() -> date:
    return local_today(SystemClock(), ZONE)


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A clinic-local wall-clock time (the services' clinic time zone)."""
    return datetime.combine(day, time(hour, minute), tzinfo=CLINIC_TZ)


def is_open(day: date) -> bool:
    return day.weekday() != SUNDAY


def next_open_on_or_after(day: date) -> date:
    while not is_open(day):
        day += ONE_DAY
    return day


def every_other_day(start: date, count: int = 15) -> list[date]:
    """R-CADENCE: one free day between sessions, a closed day moves to the next open day."""
    days = [next_open_on_or_after(start)]
    while len(days) < count:
        days.append(next_open_on_or_after(days[-1] + 2 * ONE_DAY))
    return days


def start_where(fits: Callable[[list[date]], bool], latest: date, earliest: date) -> date:
    """The latest open day in [earliest, latest] whose every-other-day plan `fits`."""
    day = latest
    while day >= earliest:
        if is_open(day) and fits(every_other_day(day)):
            return day
        day -= ONE_DAY
    raise AssertionError(f"no course start between {earliest} and {latest} fits the story")


def next_monday(after: date) -> date:
    return after + timedelta(days=7 - after.weekday())


def on(session: Session) -> date:
    return date.fromisoformat(session["on"])


def days_of(sessions: list[Session]) -> list[date]:
    return [on(s) for s in sessions]


@dataclass
class Clinic(ClinicFeed):
    """One patient's clinic events, beyond the shared builders (a fresh patient id each)."""

    def prescription(
        self,
        start_on: date,
        course_id: str = "C1",
        *,
        sent_on: date | None = None,
        sessions: int = 15,
        preferred_time: str = "09:00",
    ) -> Envelope:
        data = {"course_id": course_id, "sessions": sessions, "cadence": "every_other_day",
                "start_on": start_on.isoformat(), "preferred_time": preferred_time}  # fmt: skip
        return self.event("clinic.course.prescribed", sent_on or start_on, data)

    def completed(self, session: Session, course_id: str = "C1") -> Envelope:
        data = {"course_id": course_id, "session_id": session["session_id"],
                "performed_at": local(on(session)).isoformat()}  # fmt: skip
        return self.event("clinic.session.completed", on(session), data)

    def not_performed(self, session: Session, reason: str, course_id: str = "C1") -> Envelope:
        data = {"course_id": course_id, "session_id": session["session_id"], "reason": reason}
        return self.event("clinic.session.not_performed", on(session), data)

    def physical_therapy(self, starts_at: datetime, booked_on: date) -> Envelope:
        data = {"appointment_id": f"PT-{uuid.uuid4().hex[:6]}",
                "starts_at": starts_at.isoformat()}  # fmt: skip
        return self.event("clinic.physical_therapy.booked", booked_on, data)


def pairs(days: list[date]) -> Iterator[tuple[date, date]]:
    return itertools.pairwise(days)
