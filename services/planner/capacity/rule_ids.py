"""Rule IDs from DOMAIN.md ("Therapists and time") that the capacity core names."""

from typing import Final

ROSTER: Final = "R-ROSTER"
NO_OVERLAP: Final = "R-NO-OVERLAP"
CONTINUITY: Final = "R-CONTINUITY"
PREFERRED_TIME: Final = "R-PREFERRED-TIME"
CAPACITY: Final = "R-CAPACITY"
THERAPIST_ABSENT: Final = "R-THERAPIST-ABSENT"
PLAN_STABLE: Final = "R-PLAN-STABLE"
