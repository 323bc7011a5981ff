"""Synthetic patients: realistic mixes of clinic events, each with its own correlation id.

Every patient's script starts with an enrolment and a prescription, then session outcomes
(mostly completions, some not performed) interleaved with clinical episodes: a flare and
its remission, a fever and its resolution, physical therapy bookings, and for a few
patients a knee replacement followed by the physician's clearance (always last: it cancels
the course). Clinical dates lie in the recent past, so eligibility decides for today; the
planner runs on the day before the courses start (`PLANNER_CLOCK_OFFSET_DAYS`), so it places
every session of a course.

Patients belong to the clinic `bench`, which has no roster (date-only plans), or are spread
over rostered clinics (`rostered_clinics`): each clinic's roster (`rosters`) is sent on
`clinic.staff-events` before its patients, with hours wide enough that every course fits,
so a run with rosters measures placement, not shortage.
"""

import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.codec import new_event, to_bytes
from services.planner.cadence import Cadence, session_dates
from services.planner.calendar import ClinicCalendar

SOURCE = "/clinics/bench/emr"
ROSTER_SOURCE = "/clinics/bench/roster"
MIN_EVENTS_PER_PATIENT = 2
UNROSTERED = ("bench",)
# Monday to Saturday (the clinic's open days), 07:00-20:00: a therapist gives 39 or more
# sessions a day (at most 15 minutes plus 5 of turnover), five of them far more than the
# at most one session a day of each of a clinic's patients.
OPEN_WEEKDAYS = range(6)
HOURS = ("07:00", "20:00")
ROSTER_SINCE_DAYS = 60  # effective long before the oldest clinical date of the workload
COURSE_START_DAYS = -25  # every course starts this many days from the scripts' today
# The planner places no session dated before its clinic-local yesterday (`loaded_since`):
# the harness runs it on the day before the courses start (COURSEFLOW_PLANNER_CLOCK_OFFSET_DAYS),
# with and without rosters alike, so every session of a course is placed, not only the last.
# Only the planner's clock moves: eligibility and the notifier keep today.
PLANNER_CLOCK_OFFSET_DAYS = COURSE_START_DAYS - 1
# When sessions are performed (`generate`'s `outcomes`):
# - "daily": session n on day n of the course, whatever its plan: a course every other day,
#   or one that meets a closed day, has most of its sessions done on another day than
#   planned, and each such outcome moves the rest of the course (R-CADENCE).
# - "on-plan": each session on the day its course's first plan gave it (open days, the
#   course's cadence), as a clinic that keeps its appointments reports them; only episodes
#   (a flare, a fever, a session not performed) move a course. Never after the scripts'
#   today: a later session is reported done today.
OUTCOMES = ("daily", "on-plan")
PLAN_CALENDAR = ClinicCalendar("UTC", frozenset(OPEN_WEEKDAYS))


@dataclass(frozen=True, slots=True)
class Message:
    """One clinic event as it goes on the wire."""

    correlation_id: str
    event_type: str
    key: bytes
    value: bytes


class _Patient:
    def __init__(
        self,
        run: str,
        number: int,
        today: date,
        rng: random.Random,
        clinic_id: str,
        *,
        outcomes: str = "daily",
    ) -> None:
        self.id = f"B-{run}-{number:06d}"
        self.today = today
        self.clinic_id = clinic_id
        self.rng = rng
        self.course = f"C-{self.id}-1"
        self.outcomes = outcomes
        self.planned: tuple[date, ...] = ()  # the course's first plan, once prescribed

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def event(self, event_type: str, offset: int, data: dict[str, Any]) -> Message:
        correlation = str(uuid.uuid4())
        event = new_event(
            event_type, source=SOURCE, subject=self.id, data=data, correlationid=correlation,
            time=datetime.combine(self.day(offset), time(9), tzinfo=UTC),
        )  # fmt: skip
        return Message(correlation, event_type, self.id.encode(), to_bytes(event))

    def enrolled(self) -> Message:
        rng = self.rng
        data = {
            "clinic_id": self.clinic_id,
            "arthrosis_stage": rng.choices((1, 2, 3, 4), weights=(45, 35, 15, 5))[0],
            "affected_knees": rng.choice((["left"], ["right"], ["left", "right"])),
            "rheumatic_inflammation": rng.random() < 0.1,
            "impaired_limb_blood_supply": rng.random() < 0.1,
            "knee_painful_on_palpation": rng.random() < 0.3,
            "severe_swelling": rng.random() < 0.1,
        }
        return self.event("clinic.patient.enrolled", -30, data)

    def prescribed(self) -> Message:
        sessions = self.rng.choice((15, 15, 18, 20))
        cadence = self.rng.choice(("daily", "every_other_day"))
        start = self.day(COURSE_START_DAYS)
        data = {
            "course_id": self.course, "sessions": sessions, "cadence": cadence,
            "start_on": start.isoformat(),
            "preferred_time": self.rng.choice(("09:00", "10:00", "14:30", "16:00")),
        }  # fmt: skip
        self.planned = session_dates(start, sessions, Cadence(cadence), PLAN_CALENDAR)
        return self.event("clinic.course.prescribed", -28, data)

    def outcome(self, number: int) -> tuple[int, str | None]:
        """Session `number`'s outcome: None when performed, else why not."""
        if self.rng.random() < 0.1:
            return number, self.rng.choice(("severe_pain", "discomfort", "patient_absent"))
        return number, None

    def session(self, number: int, not_performed: str | None) -> Message:
        """Its outcome on the wire, on its day (`OUTCOMES`): after `prescribed`."""
        if self.outcomes == "on-plan":
            offset = min((self.planned[number - 1] - self.today).days, 0)
        else:
            offset = min(-24 + number, 0)
        session_id = f"{self.course}-s{number:02d}"
        if not_performed is not None:
            data = {"course_id": self.course, "session_id": session_id, "reason": not_performed}
            return self.event("clinic.session.not_performed", offset, data)
        at = datetime.combine(self.day(offset), time(10), tzinfo=UTC).isoformat()
        data = {"course_id": self.course, "session_id": session_id, "performed_at": at}
        return self.event("clinic.session.completed", offset, data)

    def flare(self) -> list[Message]:
        start = self.rng.randint(-15, -8)
        return [
            self.event("clinic.flare.reported", start,
                       {"started_on": self.day(start).isoformat(),
                        "rheumatic": self.rng.random() < 0.2}),
            self.event("clinic.remission.confirmed", start + 4,
                       {"exacerbation_ended_on": self.day(start + 3).isoformat()}),
        ]  # fmt: skip

    def fever(self) -> list[Message]:
        start = self.rng.randint(-12, -4)
        return [
            self.event("clinic.contraindication.reported", start,
                       {"kind": "fever", "observed_on": self.day(start).isoformat(),
                        "body_temperature_c": round(self.rng.uniform(37.6, 39.0), 1)}),
            self.event("clinic.contraindication.resolved", start + 3,
                       {"kind": "fever", "resolved_on": self.day(start + 3).isoformat()}),
        ]  # fmt: skip

    def physical_therapy(self, n: int) -> list[Message]:
        offset = self.rng.randint(1, 10)
        starts = datetime.combine(self.day(offset), time(10, 30), tzinfo=UTC).isoformat()
        data = {"appointment_id": f"PT-{self.id}-{n}", "starts_at": starts}
        return [self.event("clinic.physical_therapy.booked", -1, data)]

    def surgery(self) -> list[Message]:
        return [
            self.event("clinic.surgery.performed", -6,
                       {"procedure": "knee_endoprosthesis", "knee": "right",
                        "performed_on": self.day(-6).isoformat()}),
            self.event("clinic.rehab.massage_cleared", -1,
                       {"cleared_on": self.day(-1).isoformat()}),
        ]  # fmt: skip

    def script(self, length: int) -> list[Message]:
        """Exactly `length` events in the order a clinic would send them."""
        rng = self.rng
        # Outcomes drawn first, put on the wire once the course's plan is known.
        blocks: list[list[Message | tuple[int, str | None]]] = [
            [self.outcome(n)] for n in range(1, 16)
        ]
        episodes: list[list[Message]] = []
        if rng.random() < 0.3:
            episodes.append(self.flare())
        if rng.random() < 0.25:
            episodes.append(self.fever())
        episodes += [self.physical_therapy(n) for n in range(rng.choice((0, 0, 1, 2)))]
        for episode in episodes:
            blocks.insert(rng.randint(0, min(len(blocks), max(length // 2, 1))), [*episode])
        tail = self.surgery() if rng.random() < 0.08 and length >= 6 else []
        body = [m for block in blocks for m in block]
        extra = 0
        while len(body) < length:  # long scripts: more bookings, as a busy patient would get
            extra += 1
            body += self.physical_therapy(100 + extra)
        head = [self.enrolled(), self.prescribed()]
        sent = [m if isinstance(m, Message) else self.session(*m) for m in body]
        return (head + sent)[: length - len(tail)] + tail


def generate(
    patients: int,
    events: int,
    *,
    seed: int,
    run: str,
    clinics: Sequence[str] = UNROSTERED,
    outcomes: str = "daily",
) -> list[Message]:
    """`events` clinic events for `patients` patients, interleaved patient by patient.

    Interleaving (step 1 of every patient, then step 2, …) spreads each patient's events over
    the whole run, as a clinic's traffic would; per-patient order is kept by the message key.
    Patient n belongs to clinic n mod len(`clinics`).
    """
    if events < patients * MIN_EVENTS_PER_PATIENT:
        raise ValueError(f"need at least {MIN_EVENTS_PER_PATIENT} events per patient")
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    base, remainder = divmod(events, patients)
    scripts = [
        _Patient(run, n, today, rng, clinics[n % len(clinics)], outcomes=outcomes).script(
            base + (1 if n < remainder else 0)
        )
        for n in range(patients)
    ]
    longest = max(len(s) for s in scripts)
    return [s[step] for step in range(longest) for s in scripts if step < len(s)]


def rostered_clinics(run: str, count: int) -> tuple[str, ...]:
    """Clinic ids of a run's own: a clinic's bookings are those of one workload only."""
    return tuple(f"K-{run}-{n:02d}" for n in range(count))


def rosters(clinics: Sequence[str], therapists: int) -> list[Message]:
    """`clinic.therapist.rostered` for `therapists` therapists of each clinic (key: clinic)."""
    effective = datetime.now(UTC).date() - timedelta(days=ROSTER_SINCE_DAYS)
    sent = datetime.combine(effective - timedelta(days=1), time(9), tzinfo=UTC)
    hours = [{"weekday": d, "from": HOURS[0], "to": HOURS[1]} for d in OPEN_WEEKDAYS]
    messages = []
    for clinic_id in clinics:
        for n in range(therapists):
            therapist = f"T-{clinic_id}-{n}"
            data = {"clinic_id": clinic_id, "therapist_id": therapist, "weekly_hours": hours,
                    "effective_from": effective.isoformat()}  # fmt: skip
            correlation = str(uuid.uuid4())
            event = new_event(
                "clinic.therapist.rostered", source=ROSTER_SOURCE, subject=therapist,
                data=data, correlationid=correlation, time=sent,
            )  # fmt: skip
            messages.append(Message(correlation, event.type, clinic_id.encode(), to_bytes(event)))
    return messages


def mix(messages: list[Message]) -> Counter[str]:
    return Counter(m.event_type for m in messages)
