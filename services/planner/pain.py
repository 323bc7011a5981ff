"""R-SESSION-PAIN review flags: severe-pain/discomfort sessions in a row (**policy**: two).

Outcomes are taken in clinical order per course. A completed session ends a streak;
`patient_absent` and `clinic_cancelled` neither count nor end it (the patient was not seen).
A streak is flagged once, when it reaches the policy's length; the flag's key is the event id
of the outcome that completes it, so redelivery or a different arrival order never flags twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.rules import RuleId
from services.planner.outputs import ReviewFlag
from services.planner.policy import DEFAULT_POLICY, PlannerPolicy

if TYPE_CHECKING:
    from collections.abc import Iterator

    from services.planner.state import Attempt, PatientState


def pain_streaks(
    state: PatientState,
    policy: PlannerPolicy = DEFAULT_POLICY,
    course_ids: frozenset[str] | None = None,
) -> Iterator[tuple[str, ReviewFlag]]:
    """The streaks of the courses named (None: of every course)."""
    for prescription in state.prescriptions:
        if course_ids is not None and prescription.course_id not in course_ids:
            continue
        streak: list[Attempt] = []
        for attempt in state.attempts:
            if attempt.course_id != prescription.course_id:
                continue
            if attempt.reason is None:
                streak = []
            elif attempt.reason.is_pain:
                streak.append(attempt)
                if len(streak) == policy.pain_streak_to_flag:
                    yield attempt.event_id, _flag(prescription.course_id, streak)


def _flag(course_id: str, streak: list[Attempt]) -> ReviewFlag:
    return ReviewFlag(
        course_id=course_id,
        # A session reported twice (it moves to the end, and may be the only one left) is
        # named once: the contract's session ids are unique.
        session_ids=tuple(dict.fromkeys(a.session_id for a in streak)),
        rules=(RuleId.SESSION_PAIN,),
        reason=f"{len(streak)} sessions in a row not performed for severe pain or discomfort",
    )
