"""Synthetic patients with realistic clinical histories, poison messages and shuffles.

Every event is built with `schemas.codec.new_event` (a unique id, keyed by patient) once, and
the very same bytes are fed to the baseline and to the faulted run.

Shuffles are limited to what the domain promises to be order-independent: the clinical facts
eligibility reads (flare/remission, contraindication reported/resolved, surgery/clearance).
Enrolment stays first (facts before it are kept since issue 12, but the suite's shuffles keep
to the clinical facts) and prescriptions and bookings keep their place, so only the arrival
order of clinical facts changes.

Patients are spread over clinics: the open one keeps no roster (date-only plans, as before
issue 14); each rostered clinic publishes its therapists' weekly hours on
`clinic.staff-events` before any patient event and one absence in the middle of the stream.
"""

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from schemas.codec import MAX_EVENT_BYTES, new_event, to_bytes
from tests.staff_events import Hours, StaffFeed

SOURCE = "/clinics/faults/emr"
OPEN_CLINIC = "faults"  # no roster: its plans must equal the baseline's
# Every rostered clinic's therapists: two stretches with a lunch break, a weekday-only
# therapist, one working three afternoons a week (Sunday is closed). Their busiest days are
# about full in the short form and overfull in the long one (R-CAPACITY moves sessions).
THERAPIST_HOURS: dict[str, Hours] = {
    "T1": [(d, f, t) for d in range(6) for f, t in (("08:00", "11:00"), ("13:00", "14:00"))],
    "T2": [(d, "09:00", "11:30") for d in range(5)],
    "T3": [(d, "14:00", "16:00") for d in (1, 3, 5)],
}
ROSTERED_SINCE_DAYS = 60  # before the earliest session the workload can date
ABSENT_THERAPIST = "T1"
ABSENCE_DAYS = (2, 4)  # from, to (included), after today: later than any decision's today
CLINICAL = frozenset({
    "clinic.flare.reported", "clinic.remission.confirmed", "clinic.contraindication.reported",
    "clinic.contraindication.resolved", "clinic.surgery.performed",
    "clinic.rehab.massage_cleared",
})  # fmt: skip
# Bad values, then bad Kafka keys around a valid event (CONTRACT.md: the key must be the
# subject), then a record as large as the clinic's producer may send (near the broker's limit).
POISON_KINDS = (
    "bad_json", "wrong_types", "unknown_type", "oversize", "wrong_specversion",
    "nul_in_key", "key_not_subject", "no_key", "near_limit",
)  # fmt: skip
# On the staff topic (the planner alone reads it): bad values, then a valid absence under a
# key that is not its clinic, or under none.
STAFF_POISON_KINDS = (
    "staff_bad_json", "staff_wrong_types", "staff_unknown_type", "staff_key_not_clinic",
    "staff_no_key",
)  # fmt: skip
# The producer's max_request_size, the bound aiokafka checks against its size estimate.
CLINIC_MAX_REQUEST_BYTES = 1_048_576
# What is left of a record too large to dead-letter whole (CONTRACT.md).
DEAD_LETTER_CUT_BYTES = 65_536


@dataclass(frozen=True, slots=True)
class Message:
    patient: str  # the event's subject; the clinic for a staff event
    kind: str  # the event type, or "poison:<kind>"
    value: bytes
    key: bytes | None  # the Kafka key: the subject (staff: the clinic), but for poison keys
    staff: bool = False  # on `clinic.staff-events`, else on `clinic.patient-events`

    @property
    def poison(self) -> bool:
        return self.kind.startswith("poison:")

    @property
    def truncated_when_dead(self) -> bool:
        """Too large to dead-letter whole: its dead letter keeps the first 64 KiB."""
        return self.kind == "poison:near_limit"


class _Patient:
    def __init__(self, tag: str, number: int, today: date, rng: random.Random, clinic: str) -> None:
        self.id = f"F-{tag}-{number:05d}"
        self.today = today
        self.rng = rng
        self.clinic = clinic

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def event(self, event_type: str, offset: int, data: dict[str, Any]) -> Message:
        event = new_event(
            event_type, source=SOURCE, subject=self.id, data=data,
            time=datetime.combine(self.day(offset), time(9), tzinfo=UTC),
        )  # fmt: skip
        return Message(self.id, event_type, to_bytes(event), self.id.encode())

    def enrolled(self, offset: int) -> Message:
        rng = self.rng
        data = {
            "clinic_id": self.clinic,
            "arthrosis_stage": rng.choices((1, 2, 3, 4), weights=(45, 35, 15, 5))[0],
            "affected_knees": rng.choice((["left"], ["right"], ["left", "right"])),
            "rheumatic_inflammation": rng.random() < 0.15,
            "impaired_limb_blood_supply": rng.random() < 0.1,
            "knee_painful_on_palpation": rng.random() < 0.3,
            "severe_swelling": rng.random() < 0.1,
        }
        return self.event("clinic.patient.enrolled", offset, data)

    def prescribed(self, number: int) -> Message:
        start = self.rng.randint(-20, 10)
        data = {
            "course_id": f"C-{self.id}-{number}", "sessions": self.rng.choice((15, 18, 20)),
            "cadence": self.rng.choice(("daily", "every_other_day")),
            "start_on": self.day(start).isoformat(),
            "preferred_time": self.rng.choice(("09:00", "10:00", "14:30")),
        }  # fmt: skip
        return self.event("clinic.course.prescribed", min(start, 0) - 2, data)

    def flare(self) -> list[Message]:
        start = self.rng.randint(-25, -2)
        rheumatic = self.rng.random() < 0.2
        data = {"started_on": self.day(start).isoformat(), "rheumatic": rheumatic}
        flare = self.event("clinic.flare.reported", start, data)
        if self.rng.random() < 0.25:  # still flaring: blocked until a further event
            return [flare]
        ended = min(start + self.rng.randint(2, 10), 0)
        remission = self.event("clinic.remission.confirmed", ended,
                               {"exacerbation_ended_on": self.day(ended).isoformat()})  # fmt: skip
        return [flare, remission]

    def contraindication(self) -> list[Message]:
        kind = self.rng.choice(("fever", "fever", "bleeding", "acute_inflammation"))
        start = self.rng.randint(-15, -1)
        data: dict[str, Any] = {"kind": kind, "observed_on": self.day(start).isoformat()}
        if kind == "fever":
            data["body_temperature_c"] = round(self.rng.uniform(37.5, 39.5), 1)
        reported = self.event("clinic.contraindication.reported", start, data)
        if self.rng.random() < 0.2:
            return [reported]
        end = min(start + self.rng.randint(1, 6), 0)
        resolved = self.event("clinic.contraindication.resolved", end,
                              {"kind": kind, "resolved_on": self.day(end).isoformat()})  # fmt: skip
        return [reported, resolved]

    def surgery(self) -> list[Message]:
        on = self.rng.randint(-25, -3)
        surgery = self.event("clinic.surgery.performed", on,
                             {"procedure": "knee_endoprosthesis", "knee": "right",
                              "performed_on": self.day(on).isoformat()})  # fmt: skip
        cleared_on = min(on + self.rng.randint(4, 20), 0)
        cleared = self.event("clinic.rehab.massage_cleared", cleared_on,
                             {"cleared_on": self.day(cleared_on).isoformat()})  # fmt: skip
        return [surgery, cleared]

    def booking(self, n: int) -> Message:
        starts = datetime.combine(self.day(self.rng.randint(1, 12)), time(10, 30), tzinfo=UTC)
        data = {"appointment_id": f"PT-{self.id}-{n}", "starts_at": starts.isoformat()}
        return self.event("clinic.physical_therapy.booked", 0, data)

    def script(self) -> list[Message]:
        """A clinic's order: enrolment, a prescription, episodes, bookings, maybe surgery."""
        rng = self.rng
        episodes = [self.flare() for _ in range(rng.choice((0, 1, 1, 2)))]
        episodes += [self.contraindication() for _ in range(rng.choice((0, 1, 1, 2)))]
        episodes += [[self.booking(n)] for n in range(rng.choice((0, 1, 2)))]
        if rng.random() < 0.15:
            episodes.append([self.enrolled(-1)])  # the profile is updated
        rng.shuffle(episodes)
        body = [self.enrolled(-40), self.prescribed(1)]
        messages = body + [m for block in episodes for m in block]
        if rng.random() < 0.1:
            messages += self.surgery()
        return messages


def shuffled(script: list[Message], rng: random.Random) -> list[Message]:
    """The clinical facts permuted among their own slots; everything else stays put."""
    slots = [i for i, m in enumerate(script) if m.kind in CLINICAL]
    facts = [script[i] for i in slots]
    rng.shuffle(facts)
    result = list(script)
    for slot, fact in zip(slots, facts, strict=True):
        result[slot] = fact
    return result


@dataclass(frozen=True)
class ClinicRoster:
    """A rostered clinic's staff facts, as sent and as the invariant reads them."""

    clinic_id: str
    hours: dict[str, Hours]  # therapist → weekly hours, in force on every day of the run
    absences: tuple[tuple[str, date, date], ...]  # therapist, from, to (included)
    rostering: tuple[Message, ...]  # sent (and consumed) before any patient event
    changes: tuple[Message, ...]  # sent in the middle of the stream


def rostered_clinic(clinic_id: str, today: date) -> ClinicRoster:
    feed = StaffFeed(clinic_id)
    since = today - timedelta(days=ROSTERED_SINCE_DAYS)
    first, last = (today + timedelta(days=n) for n in ABSENCE_DAYS)
    absent = (ABSENT_THERAPIST, first, last)
    rostering = tuple(
        _staff(clinic_id, feed.rostered(therapist, since, hours))
        for therapist, hours in THERAPIST_HOURS.items()
    )
    changes = (_staff(clinic_id, feed.absent(*absent)),)
    return ClinicRoster(clinic_id, dict(THERAPIST_HOURS), (absent,), rostering, changes)


def _staff(clinic_id: str, event: Any) -> Message:
    return Message(clinic_id, event.type, to_bytes(event), clinic_id.encode(), staff=True)


@dataclass(frozen=True)
class Workload:
    scripts: dict[str, list[Message]]  # per patient, in the clinic's order
    shuffled: frozenset[str]  # patients whose faulted feed is shuffled
    clinic_of: dict[str, str] = field(default_factory=dict)  # patient → clinic
    rosters: tuple[ClinicRoster, ...] = ()

    @property
    def events(self) -> int:
        return sum(len(s) for s in self.scripts.values())

    @property
    def rostering(self) -> list[Message]:
        """The rosters: sent first, and consumed before the stream starts, so that no course
        of a rostered clinic is planned before its clinic has a roster."""
        return [m for roster in self.rosters for m in roster.rostering]

    @property
    def cadences(self) -> dict[str, str]:
        """course → cadence, as prescribed."""
        found = {}
        for script in self.scripts.values():
            for message in script:
                if message.kind == "clinic.course.prescribed":
                    data = json.loads(message.value)["data"]
                    found[data["course_id"]] = data["cadence"]
        return found

    def stream(self, *, shuffle: bool, seed: int) -> list[Message]:
        """Patients interleaved step by step, as a clinic's traffic; per-key order kept; the
        rostered clinics' staff changes in the middle."""
        rng = random.Random(seed)
        scripts = [
            shuffled(s, rng) if shuffle and p in self.shuffled else s
            for p, s in self.scripts.items()
        ]
        longest = max(len(s) for s in scripts)
        stream = [s[step] for step in range(longest) for s in scripts if step < len(s)]
        middle = len(stream) // 2
        changes = [m for roster in self.rosters for m in roster.changes]
        return stream[:middle] + changes + stream[middle:]


def generate(
    patients: int, *, shuffled_share: float, seed: int, tag: str, rostered_clinics: int = 0
) -> Workload:
    """Patients spread in turn over the open clinic and `rostered_clinics` rostered ones."""
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    rosters = tuple(
        rostered_clinic(f"faults-rostered-{n}", today) for n in range(1, rostered_clinics + 1)
    )
    clinics = [OPEN_CLINIC, *(roster.clinic_id for roster in rosters)]
    scripts = {}
    clinic_of = {}
    for n in range(patients):
        patient = _Patient(tag, n, today, rng, clinics[n % len(clinics)])
        scripts[patient.id] = patient.script()
        clinic_of[patient.id] = patient.clinic
    candidates = [p for p, s in scripts.items() if sum(m.kind in CLINICAL for m in s) >= 2]
    count = min(len(candidates), max(1, round(patients * shuffled_share)))
    return Workload(scripts, frozenset(rng.sample(candidates, count)), clinic_of, rosters)


def staff_poison(kind: str, clinic: str, n: int, *, other: str, today: date) -> Message:
    """One message the planner must dead-letter from the staff topic without stalling. The
    key kinds carry a valid absence of `clinic`, which would move sessions if applied."""
    absent_on = (today + timedelta(days=8)).isoformat()
    base: dict[str, Any] = {
        "specversion": "1.0", "id": f"poison-{clinic}-{kind}-{n}",
        "source": f"/clinics/{clinic}/roster", "type": "clinic.therapist.absent",
        "time": f"{today.isoformat()}T09:00:00+00:00", "subject": "T2",
        "datacontenttype": "application/json",
        "data": {"clinic_id": clinic, "therapist_id": "T2", "from_on": absent_on,
                 "to_on": absent_on, "reason": "sick"},
    }  # fmt: skip
    key: bytes | None = clinic.encode()
    if kind == "staff_bad_json":
        value = json.dumps(base).encode()[:-9] + b"]]{"
    elif kind == "staff_wrong_types":
        base["data"] |= {"from_on": 20261205, "therapist_id": ["T2"]}
        value = json.dumps(base).encode()
    elif kind == "staff_unknown_type":
        base["type"] = "clinic.therapist.cloned"
        value = json.dumps(base).encode()
    elif kind == "staff_key_not_clinic":
        value, key = json.dumps(base).encode(), other.encode()
    elif kind == "staff_no_key":
        value, key = json.dumps(base).encode(), None
    else:
        raise ValueError(kind)
    return Message(clinic, f"poison:{kind}", value, key, staff=True)


def poison(kind: str, patient: str, n: int, *, other: str) -> Message:
    """One message every consumer of clinic events must dead-letter without stalling.

    The poison keys carry a valid event of `patient`: only the key is wrong (a NUL byte,
    `other` patient's id, none), so nothing but the key can get them dead-lettered.
    """
    base: dict[str, Any] = {
        "specversion": "1.0", "id": f"poison-{patient}-{kind}-{n}", "source": SOURCE,
        "type": "clinic.flare.reported", "time": "2026-01-05T09:00:00+00:00",
        "subject": patient, "datacontenttype": "application/json",
        "data": {"started_on": "2026-01-05", "rheumatic": False},
    }  # fmt: skip
    if kind == "bad_json":
        value = json.dumps(base).encode()[:-7] + b"}{,"
    elif kind == "wrong_types":
        base["data"] = {"started_on": 20260105, "rheumatic": "yes"}
        value = json.dumps(base).encode()
    elif kind == "unknown_type":
        base["type"] = "clinic.patient.teleported"
        value = json.dumps(base).encode()
    elif kind == "oversize":
        base["source"] = SOURCE + "/" + "x" * (MAX_EVENT_BYTES + 1024)
        value = json.dumps(base).encode()
    elif kind == "wrong_specversion":
        base["specversion"] = "0.3"
        value = json.dumps(base).encode()
    elif kind in _KEYS:
        return Message(patient, f"poison:{kind}", json.dumps(base).encode(),
                       _KEYS[kind](patient, other))  # fmt: skip
    elif kind == "near_limit":
        return near_limit(base, patient)
    else:
        raise ValueError(kind)
    return Message(patient, f"poison:{kind}", value, patient.encode())


_KEYS = {
    "nul_in_key": lambda patient, _other: f"{patient}\x00".encode(),
    "key_not_subject": lambda _patient, other: other.encode(),
    "no_key": lambda _patient, _other: None,
}


def near_limit(base: dict[str, Any], patient: str) -> Message:
    """A record the clinic's producer can just send (its size estimate a few bytes under
    max_request_size), so its dead letter (the same bytes plus headers) cannot be sent whole."""
    key = patient.encode()
    base["source"] = SOURCE + "/"
    empty = json.dumps(base).encode()
    fill = (
        CLINIC_MAX_REQUEST_BYTES
        - 16
        - DefaultRecordBatchBuilder.estimate_size_in_bytes(key, empty, [])
    )
    base["source"] = SOURCE + "/" + "x" * fill
    value = json.dumps(base).encode()
    assert DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, []) <= (
        CLINIC_MAX_REQUEST_BYTES
    )
    return Message(patient, "poison:near_limit", value, key)
