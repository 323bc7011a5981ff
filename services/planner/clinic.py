"""The planner's second Decider: a clinic's staff facts, keyed by `clinic_id` (pure).

Its state is the set of the clinic's staff facts, kept sorted so that equal sets are equal
states whatever the arrival order (R-ROSTER); a fact already held changes nothing.

A new fact asks patients to have courses placed again (`staff_commands`): those whose
bookings the roster no longer allows (R-THERAPIST-ABSENT, R-ROSTER), and, when hours come
(a first roster, a new therapist, new hours), every course of the clinic that more capacity
could place: never placed (the clinic had no roster) or waiting (R-CAPACITY).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from schemas.rules import RuleId
from schemas.staff import StaffEventUnion
from schemas.topics import PLANNER_COMMANDS
from services.planner.capacity.bookings import Bookings
from services.planner.capacity.roster import Absent, Roster, Rostered, StaffFact
from services.planner.staff_commands import SessionsUnstaffedData, place_again
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
class ClinicSessions:
    """What a staff change may move (`ClinicRepository.load_shared`): the clinic's bookings,
    and per patient the courses more capacity could place (`PatientState.courses_to_place`)."""

    bookings: Bookings
    to_place: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (patient_id, course_ids), sorted

    def told(self, hits: Sequence["SessionsHit"]) -> "ClinicSessions":
        """Without the courses `hits` asked to place: a batch asks each once."""
        asked = {(hit.patient_id, c) for hit in hits for c in hit.course_ids}
        left = (
            (p, tuple(c for c in courses if (p, c) not in asked)) for p, courses in self.to_place
        )
        return replace(self, to_place=tuple((p, courses) for p, courses in left if courses))


@dataclass(frozen=True, slots=True)
class StaffFactReceived:
    """A staff fact the clinic did not hold yet: what the roster changed by."""

    fact: StaffFact


@dataclass(frozen=True, slots=True)
class SessionsHit:
    """R-THERAPIST-ABSENT / R-ROSTER: courses of a patient with sessions the therapist can no
    longer give, or that the hours rostered may place; the patient's own batch places them
    again (`staff_commands`)."""

    patient_id: str
    therapist_id: str
    rule: RuleId
    course_ids: tuple[str, ...]
    at: datetime  # when it was decided: the command's `time`


StaffOutput = StaffFactReceived | SessionsHit


@dataclass(frozen=True)
class StaffDecider:
    source: str = "/courseflow/planner"
    topic: str = PLANNER_COMMANDS
    key_field: ClassVar[str] = "clinic_id"  # its keys in logs (`runtime.decider.KeyNaming`)

    def translate(self, event: StaffEventUnion) -> StaffFact:
        return staff_fact(event)

    def decide(
        self, state: ClinicState, command: StaffFact, context: Context, /
    ) -> tuple[ClinicState, Sequence[StaffOutput]] | Rejected:
        new_state = state.with_fact(command)
        if new_state is state:
            return state, ()
        sessions = (context.shared or {}).get(context.key)
        hit = () if sessions is None else _hit(command, new_state.roster, sessions, context)
        return new_state, (StaffFactReceived(command), *hit)

    def share(self, shared: Any, decided: Decided[StaffFact, ClinicState, StaffOutput], /) -> Any:
        hits = [output for output in decided.outputs if isinstance(output, SessionsHit)]
        if not hits or decided.key not in shared:
            return shared
        return {**shared, decided.key: shared[decided.key].told(hits)}

    def encode(
        self, decided: Decided[StaffFact, ClinicState, StaffOutput], /
    ) -> Sequence[OutboxMessage]:
        hits = [output for output in decided.outputs if isinstance(output, SessionsHit)]
        return [self._command(decided, hit) for hit in hits]

    def _command(
        self, decided: Decided[StaffFact, ClinicState, StaffOutput], hit: SessionsHit
    ) -> OutboxMessage:
        data = SessionsUnstaffedData.model_validate({
            "clinic_id": decided.key, "therapist_id": hit.therapist_id, "rule": hit.rule.value,
            "course_ids": hit.course_ids,
        })  # fmt: skip
        return place_again(
            hit.patient_id, data, topic=self.topic, source=self.source, cause=decided.cause,
            at=hit.at,
        )  # fmt: skip


def _hit(
    fact: StaffFact, roster: Roster, sessions: ClinicSessions, context: Context
) -> tuple[SessionsHit, ...]:
    """The therapist's bookings from today on that the roster no longer allows, by patient;
    with hours rostered, the courses they may place too (R-ROSTER, R-CAPACITY)."""
    rule = RuleId.THERAPIST_ABSENT if isinstance(fact, Absent) else RuleId.ROSTER
    courses: dict[str, set[str]] = {}
    for booking in sessions.bookings.of_therapist(fact.therapist_id, context.today):
        if not roster.allows(fact.therapist_id, booking.on, booking.start_min, booking.end_min):
            courses.setdefault(booking.owner.patient_id, set()).add(booking.owner.course_id)
    if isinstance(fact, Rostered):
        for patient_id, course_ids in sessions.to_place:
            courses.setdefault(patient_id, set()).update(course_ids)
    return tuple(
        SessionsHit(patient_id, fact.therapist_id, rule, tuple(sorted(course_ids)), context.now)
        for patient_id, course_ids in sorted(courses.items())
    )


def _order(fact: StaffFact) -> str:
    return json.dumps(fact_to_json(fact), sort_keys=True)
