"""The per-patient state: clinical facts (the truth) plus what was last published.

Facts are kept canonical (deduplicated, sorted by clinical time then event id), so the same
facts recorded in any arrival order give an equal state; the plan is recomputed from them.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from pydantic import TypeAdapter

from schemas.eligibility import Block
from services.planner.cadence import Cadence
from services.planner.commands import NotPerformedReason
from services.planner.notes import Profile
from services.planner.outputs import CourseStatus, PlannedSession


@dataclass(frozen=True, slots=True)
class Prescription:
    event_id: str
    prescribed_at: datetime
    course_id: str
    sessions: int
    cadence: Cadence
    start_on: date
    preferred_time: time | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A session outcome: completed, or not performed (then it moves to the end)."""

    event_id: str
    at: datetime
    course_id: str
    session_id: str
    reason: NotPerformedReason | None

    @property
    def completed(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class ProfileFact:
    event_id: str
    occurred_at: datetime
    profile: Profile
    clinic_id: str = ""  # a row stored before the clinic was kept has none until re-enrolled


@dataclass(frozen=True, slots=True)
class EligibilityFact:
    """The latest decision: with its history it carries every block the facts imply."""

    version: int
    eligible: bool
    blocks: tuple[Block, ...]
    history: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class PhysicalTherapy:
    event_id: str
    occurred_at: datetime
    appointment_id: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class Cancellation:
    event_id: str
    at: datetime
    reason: str
    rule: str | None
    # A surgery's day (R-POSTOP cancels by it); a row stored before it was kept has none,
    # and then the clinic-local day of `at` stands for it.
    performed_on: date | None = None


@dataclass(frozen=True, slots=True)
class PublishedCourse:
    course_id: str
    version: int
    status: CourseStatus
    sessions: tuple[PlannedSession, ...]
    completed_sessions: int


@dataclass(frozen=True, slots=True)
class Placed:
    """A session's therapist and time (R-CAPACITY), kept while the core plans the session on
    `planned_on` (R-PLAN-STABLE); `on` may be later (nobody was free on the planned day)."""

    course_id: str
    session_id: str
    planned_on: date
    therapist_id: str
    on: date
    start_min: int  # local wall-clock minutes
    end_min: int


@dataclass(frozen=True, slots=True)
class Waiting:
    """R-CAPACITY: the days (as the core dated them) of a course's sessions that wait because
    no therapist is free within the horizon; what staff were last told of the course."""

    course_id: str
    days: tuple[date, ...]


UNDER_WAY = (CourseStatus.PENDING, CourseStatus.ACTIVE)


@dataclass(frozen=True, slots=True)
class PatientState:
    profile: ProfileFact | None = None
    prescriptions: tuple[Prescription, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    eligibility: EligibilityFact | None = None
    physical_therapy: tuple[PhysicalTherapy, ...] = ()
    cancellations: tuple[Cancellation, ...] = ()
    published: tuple[PublishedCourse, ...] = ()
    flagged_streaks: tuple[str, ...] = ()
    reminded_courses: tuple[str, ...] = ()
    # The basis (`decide.planning_basis`) the published plans were made on; a row stored
    # before it was kept has none, and is planned again whole on its next command.
    planned_with: str = ""
    # What `services.planner.staffing` placed; none while the clinic has no roster.
    placements: tuple[Placed, ...] = ()
    waiting: tuple[Waiting, ...] = ()

    @property
    def current_profile(self) -> Profile:
        return Profile() if self.profile is None else self.profile.profile

    @property
    def clinic_id(self) -> str:
        """The clinic of the latest enrolment ("" before any)."""
        return "" if self.profile is None else self.profile.clinic_id

    @property
    def eligibility_version(self) -> int:
        return self.eligibility.version if self.eligibility else 0

    def published_course(self, course_id: str) -> PublishedCourse | None:
        return next((p for p in self.published if p.course_id == course_id), None)

    def waiting_on(self, course_id: str) -> tuple[date, ...]:
        if not self.waiting:  # most often: asked for every session shown
            return ()
        return next((w.days for w in self.waiting if w.course_id == course_id), ())

    @property
    def courses_to_place(self) -> tuple[str, ...]:
        """Courses under way that more capacity could place (R-CAPACITY, R-ROSTER): those
        with waiting sessions, and those never placed (their clinic had no roster yet)."""
        placed = {p.course_id for p in self.placements}
        waiting = {w.course_id for w in self.waiting}
        return tuple(sorted(
            course.course_id for course in self.published
            if course.status in UNDER_WAY and course.sessions
            and (course.course_id in waiting or course.course_id not in placed)
        ))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for a jsonb column; aware datetimes keep their UTC offset."""
        dumped: dict[str, Any] = _STATE_ADAPTER.dump_python(self, mode="json")
        return dumped

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PatientState":
        return _STATE_ADAPTER.validate_python(data)

    def to_json_text(self) -> str:
        """`to_json` as JSON text in one step, without the intermediate dicts (faster)."""
        return _STATE_ADAPTER.dump_json(self).decode()

    @classmethod
    def from_json_text(cls, text: str | bytes) -> "PatientState":
        """`from_json` of JSON text in one step, without the intermediate dicts (faster)."""
        return _STATE_ADAPTER.validate_json(text)


_STATE_ADAPTER = TypeAdapter(PatientState)
