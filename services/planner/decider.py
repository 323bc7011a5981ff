"""The planner Decider: clinic events, eligibility decisions and reminder days in, schedule
events out (pure).

A command is first screened against the patient's state (`services.planner.screening`): an
outcome the core could not place or a course prescribed again with other terms is rejected
(a dead letter), a repeated report changes nothing. Then the core decides; a prescription it
refuses (R-COURSE-LENGTH) is rejected too, so nothing of it is stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.clinic import ClinicEvent
from schemas.eligibility import EligibilityDecided
from services.planner.calendar import ClinicCalendar
from services.planner.commands import Command
from services.planner.decide import decide
from services.planner.outputs import CourseRejected, Output
from services.planner.policy import PlannerPolicy
from services.planner.screening import screen
from services.planner.state import PatientState
from services.planner.translate import eligibility_changed, to_command
from services.planner.wire_out import Envelopes, to_wire
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.outbox import OutboxMessage
from services.runtime.wire import decode_any_event, outbox_message

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

    output: Output
    at: datetime


@dataclass(frozen=True)
class PlannerDecider:
    calendar: ClinicCalendar
    policy: PlannerPolicy
    source: str  # the CloudEvents source of published schedule events
    topic: str

    def translate(self, event: ClinicEvent | EligibilityDecided) -> Command | None:
        """A clinic event's command (None when it does not concern the planner), or an
        eligibility decision's. Each topic's decoder lets only its own types through
        (`decode_decision`), so a clinic event on the eligibility topic is a dead letter."""
        if isinstance(event, EligibilityDecided):
            return eligibility_changed(event)
        return to_command(event)

    def decide(
        self, state: PatientState, command: Command, context: Context
    ) -> tuple[PatientState, Sequence[Timed]] | Rejected:
        verdict = screen(state, command)
        if verdict.rejection is not None:
            return Rejected(verdict.rejection)
        if verdict.repeated:
            return state, ()
        new_state, outputs = decide(state, command, context.today, self.calendar, self.policy)
        for output in outputs:
            if isinstance(output, CourseRejected):
                return Rejected(f"{output.rules[0]}: {output.reason}")
        return new_state, tuple(Timed(output, context.now) for output in outputs)

    def encode(self, decided: Decided[Command, PatientState, Timed]) -> Sequence[OutboxMessage]:
        messages = []
        for timed in decided.outputs:
            envelopes = Envelopes(self.source, decided.key, decided.cause, timed.at)
            event = to_wire(timed.output, decided.state, envelopes)
            if event is not None:
                messages.append(outbox_message(self.topic, event))
        return messages
