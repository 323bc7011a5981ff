"""The notifier Decider: schedule and eligibility events in, notices for recipients out (pure).

The state is what the notifier remembers of a patient (`decision_notices.PatientMemory`).
Nothing is published here: the notices are queued by the repository, and notice.issued
goes out with each delivery's outcome (worker.py).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from schemas.causes import Cause
from schemas.eligibility import EligibilityDecided, EligibilityDecidedData
from schemas.events import AnyEvent
from schemas.schedule import CourseData
from services.notifier.calendar_updates import calendar_update
from services.notifier.coalesce import due_at
from services.notifier.decision_notices import (
    PatientMemory,
    decision_notices,
    remember_course_break,
)
from services.notifier.notice import Notice, notice_id
from services.notifier.roster_notices import (
    CourseChange,
    capacity_notices,
    therapist_notices,
)
from services.notifier.routing import RoutingConfig
from services.notifier.schedule_notices import schedule_notice
from services.runtime.clock import local_date
from services.runtime.decider import Context, Decided
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class AnnounceCourse:
    """A schedule event (decided by the planner `at`): one notice of the change, one to each
    therapist whose day changed and one of a new capacity shortage (roster_notices.py); a
    course's break end and what calendars were told of its sessions are remembered."""

    cause: Cause
    patient_id: str
    data: CourseData
    at: datetime


@dataclass(frozen=True, slots=True)
class AnnounceDecision:
    """An eligibility decision of the clinic-local day `on`: notices of what is new to staff."""

    cause: Cause
    patient_id: str
    data: EligibilityDecidedData
    on: date


Command = AnnounceCourse | AnnounceDecision


@dataclass(frozen=True, slots=True)
class Addressed:
    """A notice for one recipient, to be delivered from `due_at` on (coalescing)."""

    notice: Notice
    recipient: str
    channel: str
    cause: Cause  # its correlation and trace context go on to notice.issued
    due_at: datetime

    @property
    def notice_id(self) -> str:
        return notice_id(self.notice.cause_id, self.notice.kind, self.recipient)


NEW_PATIENT = PatientMemory()


@dataclass(frozen=True)
class NotifierDecider:
    routing: RoutingConfig
    timezone: str  # the clinic's: a decision is about its clinic-local day
    coalesce_window_s: float
    # Told how many therapists whose day changed have no recipient (the shell logs it).
    unrouted_therapists: Callable[[int], None] = field(default=lambda _count: None, compare=False)

    def translate(self, event: AnyEvent) -> Command | None:
        """Other event types on the schedule and eligibility topics are not ours to announce."""
        if isinstance(event, EligibilityDecided):
            day = local_date(event.time, self.timezone)
            return AnnounceDecision(Cause.of(event), event.subject, event.data, day)
        if isinstance(event.data, CourseData):
            return AnnounceCourse(Cause.of(event), event.subject, event.data, event.time)
        return None

    def decide(
        self, state: PatientMemory, command: Command, context: Context
    ) -> tuple[PatientMemory, Sequence[Addressed]]:
        cause = command.cause
        due = due_at(context.now, self.coalesce_window_s)
        personal: Sequence[tuple[str, Notice]] = ()
        if isinstance(command, AnnounceDecision):
            memory, notices = decision_notices(
                state, cause.id, command.patient_id, command.data, command.on
            )
        else:
            memory, notices, personal = self._course(state, command)
        routed = [
            (name, notice)
            for notice in notices
            for name, _ in self.routing.recipients_for(notice.kind)
        ]
        return memory, [
            Addressed(notice, name, self.routing.recipients[name].channel, cause, due)
            for name, notice in (*routed, *personal)
        ]

    def _course(
        self, state: PatientMemory, command: AnnounceCourse
    ) -> tuple[PatientMemory, list[Notice], Sequence[tuple[str, Notice]]]:
        """The course's notices for the routes, and the therapists' notices, each addressed
        to its recipient already."""
        cause, patient, data = command.cause.id, command.patient_id, command.data
        previous = next((c for c in state.calendar if c.course_id == data.course_id), None)
        calendar, update = calendar_update(state.calendar, patient, data, command.at, self.timezone)
        memory = replace(remember_course_break(state, data), calendar=calendar)
        notices = [schedule_notice(cause, patient, data, update)]
        notices += capacity_notices(cause, patient, data, previous)
        change = CourseChange(cause, patient, data, previous, update)
        therapists = therapist_notices(self.routing, change)
        if therapists.unmapped:
            self.unrouted_therapists(therapists.unmapped)
        return memory, notices, therapists.notices

    def encode(
        self, _decided: Decided[Command, PatientMemory, Addressed]
    ) -> Sequence[OutboxMessage]:
        return []
