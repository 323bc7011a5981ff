"""The planner Decider: clinic events, eligibility decisions and reminder days in, schedule
events out (pure).

A command is first screened against the patient's state (`services.planner.screening`): an
outcome the core could not place or a course prescribed again with other terms is rejected
(a dead letter), a repeated report changes nothing. Then the core decides; a prescription it
refuses (R-COURSE-LENGTH) is rejected too, so nothing of it is stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, overload

from schemas.causes import Cause
from schemas.clinic import ClinicEvent
from schemas.eligibility import EligibilityDecided
from schemas.rules import RuleId
from schemas.topics import PLANNER_COMMANDS
from services.planner.calendar import ClinicCalendar
from services.planner.capacity.policy import DEFAULT_CAPACITY_POLICY, CapacityPolicy
from services.planner.commands import Command
from services.planner.decide import decide
from services.planner.outputs import CourseRejected, Output
from services.planner.policy import PlannerPolicy
from services.planner.screening import screen
from services.planner.staff_commands import SessionsUnstaffed, SessionsUnstaffedData, place_again
from services.planner.staffing import (
    BookingsChanged,
    CapacityFreed,
    ClinicCapacity,
    Staffed,
    Staffing,
    Unstaffed,
)
from services.planner.state import PatientState
from services.planner.translate import eligibility_changed, to_command
from services.planner.wire_out import Envelopes, to_wire
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.outbox import OutboxMessage
from services.runtime.wire import decode_any_event, outbox_message

PlannerCommand = Command | Unstaffed

NOT_A_DECISION = "unexpected event type: only courseflow.eligibility.decided is read here"


def decode_decision(raw: bytes) -> EligibilityDecided | Rejected:
    """The eligibility topic's decoder: a decision, or why the record is not one."""
    event = decode_any_event(raw)
    if isinstance(event, Rejected | EligibilityDecided):
        return event
    return Rejected(NOT_A_DECISION)


@dataclass(frozen=True, slots=True)
class Timed:
    """A core output and the moment it was decided at (the `time` of its schedule event)."""

    output: Output | BookingsChanged | CapacityFreed
    at: datetime


@dataclass(frozen=True)
class PlannerDecider:
    calendar: ClinicCalendar
    policy: PlannerPolicy
    source: str  # the CloudEvents source of published schedule events
    topic: str
    capacity_policy: CapacityPolicy = DEFAULT_CAPACITY_POLICY
    commands_topic: str = PLANNER_COMMANDS  # the planner's own (`staff_commands`)

    @overload
    def translate(self, event: ClinicEvent | EligibilityDecided) -> Command | None: ...
    @overload
    def translate(self, event: SessionsUnstaffed) -> Unstaffed: ...
    @overload
    def translate(
        self, event: ClinicEvent | EligibilityDecided | SessionsUnstaffed
    ) -> PlannerCommand | None: ...

    def translate(
        self, event: ClinicEvent | EligibilityDecided | SessionsUnstaffed
    ) -> PlannerCommand | None:
        """A clinic event's command (None when it does not concern the planner), or an
        eligibility decision's. Each topic's decoder lets only its own types through
        (`decode_decision`), so a clinic event on the eligibility topic is a dead letter."""
        if isinstance(event, EligibilityDecided):
            return eligibility_changed(event)
        if isinstance(event, SessionsUnstaffed):
            data = event.data
            rule, course_ids = RuleId(data.rule), tuple(data.course_ids)
            return Unstaffed(event.id, event.time, rule, course_ids, data.clinic_id)
        return to_command(event)

    def decide(
        self, state: PatientState, command: PlannerCommand, context: Context
    ) -> tuple[PatientState, Sequence[Timed]] | Rejected:
        if isinstance(command, Unstaffed):
            return self._unstaffed(state, command, context)
        verdict = screen(state, command)
        if verdict.rejection is not None:
            return Rejected(verdict.rejection)
        if verdict.repeated:
            return state, ()
        new_state, outputs = decide(state, command, context.today, self.calendar, self.policy)
        for output in outputs:
            if isinstance(output, CourseRejected):
                return Rejected(f"{output.rules[0]}: {output.reason}")
        clinic = _capacity(context.shared, new_state.clinic_id)
        if clinic is None:  # no roster: dates only, as the core planned them
            return new_state, tuple(Timed(output, context.now) for output in outputs)
        staffed = self._staffing(clinic, context).staffed(state, new_state, outputs)
        return staffed.state, self._timed(staffed, context) + _waiting_told(
            clinic, staffed, context
        )

    def _timed(self, staffed: Staffed, context: Context) -> tuple[Timed, ...]:
        timed = [Timed(output, context.now) for output in staffed.shown]
        if staffed.booked or staffed.freed:
            change = BookingsChanged(
                staffed.state.clinic_id, staffed.booked, staffed.freed, staffed.after
            )
            timed.append(Timed(change, context.now))
        return tuple(timed)

    def _unstaffed(
        self, state: PatientState, command: Unstaffed, context: Context
    ) -> tuple[PatientState, Sequence[Timed]]:
        """R-THERAPIST-ABSENT / R-ROSTER: the hit courses placed again around the change;
        R-CAPACITY: waiting courses placed again where another patient gave up bookings."""
        clinic = _capacity(context.shared, state.clinic_id)
        moved = command.clinic_id not in ("", state.clinic_id)
        if clinic is None or moved:  # the roster is gone, or the patient moved to another clinic
            return state, ()
        staffed = self._staffing(clinic, context).staffed(state, state, (), command)
        return staffed.state, self._timed(staffed, context)

    def _staffing(self, clinic: ClinicCapacity, context: Context) -> Staffing:
        # Bookings are loaded from the clinic-local yesterday on (`PlannerRepository`).
        since = context.today - timedelta(days=1)
        return Staffing(context.key, clinic, self.calendar, self.capacity_policy, since)

    def share(self, shared: Any, decided: Decided[Any, Any, Any]) -> Any:
        """The clinics' bookings after `decided`, and the patients it asked to place their
        waiting courses: the next decisions of the batch see them."""
        changes = [t.output for t in decided.outputs if isinstance(t.output, BookingsChanged)]
        asked = [t.output for t in decided.outputs if isinstance(t.output, CapacityFreed)]
        if not changes and not asked:
            return shared
        capacity = dict(shared)
        for change in changes:
            capacity[change.clinic_id] = capacity[change.clinic_id].changed_by(change)
        for freed in asked:
            capacity[freed.clinic_id] = capacity[freed.clinic_id].asked(freed)
        return capacity

    def encode(self, decided: Decided[Any, PatientState, Timed]) -> Sequence[OutboxMessage]:
        messages = []
        for timed in decided.outputs:
            if isinstance(timed.output, BookingsChanged):
                continue
            if isinstance(timed.output, CapacityFreed):
                messages += self._place_again(timed.output, decided.cause, timed.at)
                continue
            envelopes = Envelopes(self.source, decided.key, decided.cause, timed.at)
            event = to_wire(timed.output, decided.state, envelopes)
            if event is not None:
                messages.append(outbox_message(self.topic, event))
        return messages

    def _place_again(self, freed: CapacityFreed, cause: Cause, at: datetime) -> list[OutboxMessage]:
        return [
            place_again(
                patient_id,
                SessionsUnstaffedData(
                    clinic_id=freed.clinic_id, rule=RuleId.CAPACITY.value, course_ids=course_ids
                ),
                topic=self.commands_topic,
                source=self.source,
                cause=cause,
                at=at,
            )
            for patient_id, course_ids in freed.waiting
        ]


def _waiting_told(clinic: ClinicCapacity, staffed: Staffed, context: Context) -> tuple[Timed, ...]:
    """R-CAPACITY: a decision that gave up bookings (freed, or moved from where they were)
    tells the clinic's other patients whose courses wait, so that they may take the time.

    As many as it gave up, no more: a clinic short of time may have hundreds waiting, and
    each told tries its whole horizon again. They are taken in patient id order from the
    deciding patient's on, round the end, so that the same few are not always told first."""
    if not clinic.waiting:
        return ()
    bookings = clinic.bookings
    moved = sum(bookings.of_session(b.owner.session_id) is not None for b in staffed.booked)
    given_up = len(staffed.freed) + moved
    if not given_up:
        return ()
    after = [w for w in clinic.waiting if w[0] > context.key]
    before = [w for w in clinic.waiting if w[0] < context.key]
    told = tuple((after + before)[:given_up])  # `waiting` is sorted by patient id
    return (Timed(CapacityFreed(staffed.state.clinic_id, told), context.now),) if told else ()


def _capacity(shared: Any, clinic_id: str) -> ClinicCapacity | None:
    """The patient's clinic's roster and bookings; None while it has no roster."""
    if not shared or not clinic_id:
        return None
    clinic: ClinicCapacity | None = shared.get(clinic_id)
    return clinic
