"""Eligibility decisions → notices, remembering per patient what staff were already told.

- R-POSTOP: `rehab_course_eligible` when a decision is eligible and the patient has been
  blocked by R-POSTOP since the last eligible decision (another block in between, such as a
  fever after the surgery, does not lose the notice).
- R-ADVANCED-STAGE: `surgical_evaluation_advised` once per patient and stage: the decision
  names the stage it advises for (`advanced_stage`), and the stages already announced are
  remembered, so stage 3 then 4 is two notices and 3, 2, 3 is one. A decision without the
  stage (published before it carried one) alerts when the restriction appears, as before;
  such an advice counts for the stage of the first decision that names one, so nobody is
  told twice after an upgrade.
- R-POSTOP with R-COURSE-BREAK: the planner starts a course no earlier than a month after
  the last performed session of the previous course, whatever ended it, on an open day.
  Completed and cancelled courses carry that day (`next_course_earliest_on`, the first
  open day on or after the break's end); the latest one is
  remembered, and when it is later than the day the patient becomes eligible, the rehab
  notice names it as the day a course may start, with both rules. (If the cancellation
  arrives after the eligibility notice, the cancellation notice itself names the day.)
- Decisions older than the last one seen (by version) change nothing.
"""

from dataclasses import dataclass, replace
from datetime import date

from schemas import schedule as s
from schemas.eligibility import EligibilityDecidedData
from schemas.rules import RuleId
from services.notifier.calendar_updates import Calendars
from services.notifier.kinds import Kind
from services.notifier.notice import Notice
from services.notifier.wording import with_rules

ADVISED = "surgical_evaluation_advised"


@dataclass(frozen=True, slots=True)
class PatientMemory:
    version: int = 0
    blocked_by_postop: bool = False
    surgical_evaluation_advised: bool = False  # the restriction held in the last decision
    advised_stages: frozenset[int] = frozenset()
    next_course_from: date | None = None  # R-COURSE-BREAK: the latest break end seen
    calendar: Calendars = ()  # what calendars were last told of each open course


def course_break_ends(data: s.CourseData) -> date | None:
    """The R-COURSE-BREAK end a completed or cancelled course announces, if any."""
    if isinstance(data, s.CourseCompletedData | s.CourseCancelledData):
        return data.next_course_earliest_on
    return None


def remember_course_break(memory: PatientMemory, data: s.CourseData) -> PatientMemory:
    """Keep the latest R-COURSE-BREAK end, whatever order the courses' events come in."""
    ends = course_break_ends(data)
    if ends is None or (memory.next_course_from is not None and ends <= memory.next_course_from):
        return memory
    return replace(memory, next_course_from=ends)


def decision_notices(
    memory: PatientMemory, event_id: str, patient_id: str, data: EligibilityDecidedData, on: date
) -> tuple[PatientMemory, list[Notice]]:
    """`on` is the clinic-local day of the decision."""
    if data.version <= memory.version:
        return memory, []
    notices: list[Notice] = []
    postop_now = any(block.rule == RuleId.POSTOP for block in data.blocks) and not data.eligible
    if data.eligible and memory.blocked_by_postop:
        notices.append(_rehab(event_id, patient_id, on, memory.next_course_from))
    advised = ADVISED in data.restrictions
    stage = data.advanced_stage if advised else None
    if advised and _not_yet_advised(memory, stage):
        notices.append(_surgical(event_id, patient_id, stage))
    remembered = replace(
        memory,
        version=data.version,
        blocked_by_postop=postop_now or (memory.blocked_by_postop and not data.eligible),
        surgical_evaluation_advised=advised,
        advised_stages=memory.advised_stages | ({stage} if stage is not None else set()),
    )
    return remembered, notices


def _not_yet_advised(memory: PatientMemory, stage: int | None) -> bool:
    if stage is None or not memory.advised_stages:
        # Without a stage on either side, the restriction appearing is what is new.
        return not memory.surgical_evaluation_advised
    return stage not in memory.advised_stages


def _rehab(event_id: str, patient_id: str, on: date, break_ends: date | None) -> Notice:
    if break_ends is None or break_ends <= on:
        rules: tuple[str, ...] = (RuleId.POSTOP.value,)
        text = (
            f"Patient {patient_id}: eligible for a rehabilitation massage course "
            f"from {on.isoformat()} after knee surgery; a course may be prescribed"
        )
    else:
        rules = (RuleId.POSTOP.value, RuleId.COURSE_BREAK.value)
        text = (
            f"Patient {patient_id}: eligible for massage again from {on.isoformat()} after "
            f"knee surgery; a rehabilitation course may start on or after "
            f"{break_ends.isoformat()}, the first open day a month after the last session of "
            "the previous course"
        )
    return Notice(Kind.REHAB_COURSE_ELIGIBLE, patient_id, event_id, rules, with_rules(text, rules))


def _surgical(event_id: str, patient_id: str, stage: int | None) -> Notice:
    rules = (RuleId.ADVANCED_STAGE.value,)
    named = "stage 3 or 4" if stage is None else f"stage {stage}"
    text = (
        f"Patient {patient_id}: advanced arthrosis ({named}): surgical evaluation advised; "
        "massage stays allowed"
    )
    return Notice(
        Kind.SURGICAL_EVALUATION_ADVISED, patient_id, event_id, rules, with_rules(text, rules)
    )
