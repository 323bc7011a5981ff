"""Eligibility decisions → notices, remembering per patient what staff were already told.

- R-POSTOP: `rehab_course_eligible` when a decision is eligible and the patient has been
  blocked by R-POSTOP since the last eligible decision (another block in between, such as a
  fever after the surgery, does not lose the notice).
- R-ADVANCED-STAGE: `surgical_evaluation_advised` when the restriction appears. Decisions do
  not carry the stage, so "once per patient and stage" is kept as once per patient until the
  restriction disappears (stage lowered) and appears again.
- Decisions older than the last one seen (by version) change nothing.
"""

from dataclasses import dataclass, replace
from datetime import date

from schemas.eligibility import EligibilityDecidedData
from schemas.rules import RuleId
from services.notifier.kinds import Kind
from services.notifier.notice import Notice
from services.notifier.wording import with_rules

ADVISED = "surgical_evaluation_advised"


@dataclass(frozen=True, slots=True)
class PatientMemory:
    version: int = 0
    blocked_by_postop: bool = False
    surgical_evaluation_advised: bool = False


def decision_notices(
    memory: PatientMemory, event_id: str, patient_id: str, data: EligibilityDecidedData, on: date
) -> tuple[PatientMemory, list[Notice]]:
    """`on` is the clinic-local day of the decision."""
    if data.version <= memory.version:
        return memory, []
    notices: list[Notice] = []
    postop_now = any(block.rule == RuleId.POSTOP for block in data.blocks) and not data.eligible
    if data.eligible and memory.blocked_by_postop:
        notices.append(_rehab(event_id, patient_id, on))
    advised = ADVISED in data.restrictions
    if advised and not memory.surgical_evaluation_advised:
        notices.append(_surgical(event_id, patient_id))
    remembered = replace(
        memory,
        version=data.version,
        blocked_by_postop=postop_now or (memory.blocked_by_postop and not data.eligible),
        surgical_evaluation_advised=advised,
    )
    return remembered, notices


def _rehab(event_id: str, patient_id: str, on: date) -> Notice:
    rules = (RuleId.POSTOP.value,)
    text = (
        f"Patient {patient_id}: eligible for a rehabilitation massage course "
        f"from {on.isoformat()} after knee surgery; a course may be prescribed"
    )
    return Notice(Kind.REHAB_COURSE_ELIGIBLE, patient_id, event_id, rules, with_rules(text, rules))


def _surgical(event_id: str, patient_id: str) -> Notice:
    rules = (RuleId.ADVANCED_STAGE.value,)
    text = (
        f"Patient {patient_id}: advanced arthrosis (stage 3 or 4): surgical evaluation advised; "
        "massage stays allowed"
    )
    return Notice(
        Kind.SURGICAL_EVALUATION_ADVISED, patient_id, event_id, rules, with_rules(text, rules)
    )
