"""The eligibility Decider: clinic events and timer days in, published decisions out (pure).

A decision is published only when it differs from the last one published, and the timer
is kept on the next day time alone changes the decision. Facts that come before the
enrolment are kept and publish nothing until it comes (`services.eligibility.patient`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from schemas.clinic import ClinicEvent
from schemas.codec import new_event
from schemas.eligibility import EligibilityDecided
from services.eligibility.decision import Decision
from services.eligibility.facts import Fact
from services.eligibility.patient import PatientRecord, admit, conclude
from services.eligibility.policy import Policy
from services.eligibility.timeline import Timeline
from services.eligibility.translate import to_fact
from services.runtime.clock import local_date
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.outbox import OutboxMessage
from services.runtime.wire import outbox_message


@dataclass(frozen=True, slots=True)
class Admit:
    """A clinical fact reported by an event dated `event_on` (clinic-local)."""

    fact: Fact
    event_on: date


@dataclass(frozen=True, slots=True)
class Reevaluate:
    """A timer's day came: decide again from the same facts."""

    due_on: date


Command = Admit | Reevaluate


@dataclass(frozen=True, slots=True)
class Published:
    decision: Decision
    version: int
    at: datetime


@dataclass(frozen=True, slots=True)
class TimerSet:
    """The patient's timer: the next day time alone changes the decision (None: no timer)."""

    on: date | None


Output = Published | TimerSet
NEW_PATIENT = PatientRecord(Timeline(), None, 0)


@dataclass(frozen=True)
class EligibilityDecider:
    policy: Policy
    timezone: str
    source: str  # the CloudEvents source of published decisions
    topic: str

    def translate(self, event: ClinicEvent) -> Command | None:
        fact = to_fact(event, self.timezone)
        return None if fact is None else Admit(fact, local_date(event.time, self.timezone))

    def decide(
        self, state: PatientRecord, command: Command, context: Context
    ) -> tuple[PatientRecord, Sequence[Output]] | Rejected:
        timeline = state.timeline
        if isinstance(command, Admit):
            admitted = admit(state, command.fact, event_on=command.event_on, policy=self.policy)
            if isinstance(admitted, str):
                return Rejected(admitted)
            timeline = admitted
        outcome = conclude(state, timeline, context.today, self.policy)
        outputs: list[Output] = [TimerSet(outcome.next_change_on)]
        if outcome.published is not None:
            outputs.append(Published(outcome.published, outcome.record.version, context.now))
        return outcome.record, outputs

    def encode(self, decided: Decided[Command, PatientRecord, Output]) -> Sequence[OutboxMessage]:
        return [
            outbox_message(self.topic, self._event(decided.key, output, decided))
            for output in decided.outputs
            if isinstance(output, Published)
        ]

    def _event(
        self, patient_id: str, output: Published, decided: Decided[Command, PatientRecord, Output]
    ) -> EligibilityDecided:
        return new_event(
            EligibilityDecided,
            source=self.source,
            subject=patient_id,
            data={**output.decision.to_json(), "version": output.version},
            time=output.at,
            **decided.cause.attributes(),
        )
