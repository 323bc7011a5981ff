"""How a session is done, from the patient profile (notes for the therapist).

R-NO-KNEE-WHEN-PAINFUL, R-HEMODYNAMICS and R-IN-WATER become `notes` (rule IDs, as on the
wire); R-SEQUENCE gives the therapist's order of work as `sequence` steps.
"""

from dataclasses import dataclass

from schemas.rules import RuleId

LOWER_BACK = "lower back (lumbar area)"
THIGH = "thigh of the affected leg"
KNEE_MAIN_PART = "main part at the knee"
NEARBY_MUSCLES = "nearby muscles (thigh, lumbar area), not the knee itself"
CONCLUSION = "conclusion: stroking and shaking"


@dataclass(frozen=True, slots=True)
class Profile:
    rheumatic_inflammation: bool = False
    impaired_limb_blood_supply: bool = False
    knee_painful_on_palpation: bool = False
    severe_swelling: bool = False


def session_notes(profile: Profile) -> tuple[str, ...]:
    notes: list[str] = []
    if profile.knee_painful_on_palpation:
        notes.append(RuleId.NO_KNEE_WHEN_PAINFUL)
    if profile.impaired_limb_blood_supply:
        notes.append(RuleId.HEMODYNAMICS)
    if profile.severe_swelling:
        notes.append(RuleId.IN_WATER)
    return tuple(notes)


def session_sequence(profile: Profile) -> tuple[str, ...]:
    """R-SEQUENCE: lower back, thigh, knee (if allowed), conclusion."""
    main_part = NEARBY_MUSCLES if profile.knee_painful_on_palpation else KNEE_MAIN_PART
    return (LOWER_BACK, THIGH, main_part, CONCLUSION)
