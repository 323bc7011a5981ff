"""One patient's step, pure: admit a fact into the timeline, conclude what to keep and publish.

Facts may arrive before the patient's enrolment (DOMAIN.md, "Clinical time"): they are
kept in the timeline like any other, but nothing is decided or published while no profile
is known. The enrolment then decides from every fact at once, exactly as in clinical order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.eligibility.decision import Decision, decision_changed
from services.eligibility.engine import evaluate, next_change_on
from services.eligibility.rejection import check
from services.eligibility.timeline import Timeline, record

if TYPE_CHECKING:
    from datetime import date

    from services.eligibility.facts import Fact
    from services.eligibility.policy import Policy


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """What is stored per patient: the facts, the last decision published, its version."""

    timeline: Timeline
    decision: Decision | None
    version: int


@dataclass(frozen=True, slots=True)
class Outcome:
    record: PatientRecord
    published: Decision | None  # a changed decision, to publish as `record.version`
    next_change_on: date | None  # the next day time alone changes the decision (the timer)


def admit(
    previous: PatientRecord | None, fact: Fact, *, event_on: date, policy: Policy
) -> Timeline | str:
    """The timeline with `fact` recorded, or the one-line reason it cannot be true."""
    timeline = previous.timeline if previous else Timeline()
    reason = check(timeline, fact, event_on=event_on, policy=policy)
    return reason if reason is not None else record(timeline, fact)


def conclude(
    previous: PatientRecord | None, timeline: Timeline, today: date, policy: Policy
) -> Outcome:
    last = previous.decision if previous else None
    version = previous.version if previous else 0
    if not timeline.enrolled:
        return Outcome(PatientRecord(timeline, last, version), None, None)
    upcoming = next_change_on(timeline, today, policy)
    decision = evaluate(timeline, today, policy)
    if last is not None and not decision_changed(last, decision):
        return Outcome(PatientRecord(timeline, last, version), None, upcoming)
    return Outcome(PatientRecord(timeline, decision, version + 1), decision, upcoming)
