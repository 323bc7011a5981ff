"""Builders shared by the eligibility tests (no tests here)."""

from datetime import UTC, date, datetime, time, timedelta

from services.eligibility.facts import (
    ContraindicationKind,
    ContraindicationReported,
    ContraindicationResolved,
    Fact,
    FlareReported,
    MassageCleared,
    ProfileUpdated,
    RemissionConfirmed,
    SurgeryPerformed,
)
from services.eligibility.timeline import Timeline, record

MONDAY = date(2026, 3, 2)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def timeline_of(*facts: Fact) -> Timeline:
    timeline = Timeline()
    for fact in facts:
        timeline = record(timeline, fact)
    return timeline


def profile(
    on: date = MONDAY,
    stage: int = 1,
    event_id: str = "",
    *,
    rheumatic_inflammation: bool = False,
    impaired_limb_blood_supply: bool = False,
    knee_painful_on_palpation: bool = False,
    severe_swelling: bool = False,
) -> ProfileUpdated:
    at = datetime.combine(on, time(9), tzinfo=UTC)
    return ProfileUpdated(
        event_id or f"profile-{on}", at, stage, rheumatic_inflammation,
        impaired_limb_blood_supply, knee_painful_on_palpation, severe_swelling, effective_on=on,
    )  # fmt: skip


def flare(on: date, *, rheumatic: bool = False, event_id: str = "") -> FlareReported:
    return FlareReported(event_id or f"flare-{on}", on, rheumatic=rheumatic)


def remission(
    ended_on: date, event_id: str = "", reported_on: date | None = None
) -> RemissionConfirmed:
    return RemissionConfirmed(event_id or f"remission-{ended_on}", ended_on, reported_on)


def reported(
    kind: ContraindicationKind, on: date, temperature: float | None = None, event_id: str = ""
) -> ContraindicationReported:
    return ContraindicationReported(event_id or f"{kind}-{on}", kind, on, temperature)


def resolved(
    kind: ContraindicationKind, on: date, event_id: str = "", reported_on: date | None = None
) -> ContraindicationResolved:
    return ContraindicationResolved(event_id or f"{kind}-resolved-{on}", kind, on, reported_on)


def surgery(on: date, event_id: str = "") -> SurgeryPerformed:
    return SurgeryPerformed(event_id or f"surgery-{on}", on, "right")


def cleared(on: date, event_id: str = "", reported_on: date | None = None) -> MassageCleared:
    return MassageCleared(event_id or f"cleared-{on}", on, reported_on)
