"""The planner's second Decider: a clinic's staff facts, keyed by `clinic_id` (pure).

Its state is the set of the clinic's staff facts, kept sorted so that equal sets are equal
states whatever the arrival order (R-ROSTER); a fact already held changes nothing.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.staff import StaffEventUnion
from services.planner.capacity.roster import Roster, StaffFact
from services.planner.staff_facts import fact_from_json, fact_to_json, staff_fact
from services.runtime.decider import Context, Decided, Rejected
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class ClinicState:
    facts: tuple[StaffFact, ...] = ()

    @property
    def roster(self) -> Roster:
        return Roster.from_facts(self.facts)

    def with_fact(self, fact: StaffFact) -> "ClinicState":
        if fact in self.facts:
            return self
        return ClinicState(tuple(sorted((*self.facts, fact), key=_order)))

    def to_json_text(self) -> str:
        return json.dumps([fact_to_json(fact) for fact in self.facts], sort_keys=True)

    @classmethod
    def from_json_text(cls, text: str) -> "ClinicState":
        return cls(tuple(fact_from_json(raw) for raw in json.loads(text)))


@dataclass(frozen=True, slots=True)
class StaffFactReceived:
    """A staff fact the clinic did not hold yet: what the roster changed by."""

    fact: StaffFact


@dataclass(frozen=True)
class StaffDecider:
    def translate(self, event: StaffEventUnion) -> StaffFact:
        return staff_fact(event)

    def decide(
        self, state: ClinicState, command: StaffFact, _context: Context, /
    ) -> tuple[ClinicState, Sequence[StaffFactReceived]] | Rejected:
        new_state = state.with_fact(command)
        if new_state is state:
            return state, ()
        return new_state, (StaffFactReceived(command),)

    def encode(
        self, _decided: Decided[StaffFact, ClinicState, StaffFactReceived], /
    ) -> Sequence[OutboxMessage]:
        # Until staff changes move sessions, a new fact only changes the stored roster.
        return ()


def _order(fact: StaffFact) -> str:
    return json.dumps(fact_to_json(fact), sort_keys=True)
