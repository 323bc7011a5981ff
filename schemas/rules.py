"""Rule IDs from DOMAIN.md: decisions, schedule changes and notices name them."""

from enum import StrEnum
from typing import Annotated

from pydantic import Strict


class RuleId(StrEnum):
    COURSE_LENGTH = "R-COURSE-LENGTH"
    CADENCE = "R-CADENCE"
    DURATION_RAMP = "R-DURATION-RAMP"
    COURSE_BREAK = "R-COURSE-BREAK"
    COURSES_PER_YEAR = "R-COURSES-PER-YEAR"
    PT_BEFORE = "R-PT-BEFORE"
    FLARE = "R-FLARE"
    REMISSION = "R-REMISSION"
    RHEUM_WAIT = "R-RHEUM-WAIT"
    CONTRA_BLEEDING = "R-CONTRA-BLEEDING"
    CONTRA_INFLAMMATION = "R-CONTRA-INFLAMMATION"
    CONTRA_THROMBOSIS = "R-CONTRA-THROMBOSIS"
    CONTRA_FEVER = "R-CONTRA-FEVER"
    SESSION_PAIN = "R-SESSION-PAIN"
    POSTOP = "R-POSTOP"
    ADVANCED_STAGE = "R-ADVANCED-STAGE"
    NO_KNEE_WHEN_PAINFUL = "R-NO-KNEE-WHEN-PAINFUL"
    HEMODYNAMICS = "R-HEMODYNAMICS"
    IN_WATER = "R-IN-WATER"
    SEQUENCE = "R-SEQUENCE"


# Lax only so Python code may pass "R-FLARE"; JSON still accepts nothing but the exact IDs.
Rule = Annotated[RuleId, Strict(strict=False)]
