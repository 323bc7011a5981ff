"""The blocking rules of DOMAIN.md, one small pure function per rule ID.

A rule reads the whole timeline and returns the stretches of days `(since, until)` it blocks
(`until` exclusive, None = until a further clinical event). Facts are paired by their
clinical dates, never by arrival, so the result depends only on the set of facts:

- a flare is closed by the earliest remission whose `exacerbation_ended_on` is on or after
  its `started_on` (R-REMISSION); flares reported while one is open share its remission, and
  a remission that closes no flare changes nothing (yet: its flare may arrive later, story 9);
- a contraindication report is closed by the earliest resolution of the same kind dated on
  or after it; a surgery by the earliest clearance dated on or after it;
- on equal dates a start pairs with the end: a flare that started and ended on one day
  blocks that day;
- rheumatic inflammation is read from each flare and from the profiles in force during it.

Ending dates (`exacerbation_ended_on`, `resolved_on`) are the last day the condition was
present: massage is possible from the next day (the planner then takes the next open day),
and never before the day after the end was reported (`last_day_held`). A clearance date is
the first day massage is allowed (not before its report), subject to the 14 days after
surgery. R-RHEUM-WAIT counts its month from the day the exacerbation really ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from schemas.rules import RuleId
from services.eligibility.facts import (
    ContraindicationKind,
    ContraindicationReported,
    ContraindicationResolved,
    FlareReported,
    MassageCleared,
    RemissionConfirmed,
    SurgeryPerformed,
)
from services.eligibility.policy import Policy
from services.eligibility.timeline import Timeline
from services.runtime.months import add_months

Stretch = tuple[date, date | None]
BlockRule = Callable[[Timeline, Policy], Iterator[Stretch]]


def day_after(day: date) -> date:
    return day + timedelta(days=1)


def flare_episodes(
    timeline: Timeline,
) -> Iterator[tuple[FlareReported, RemissionConfirmed | None]]:
    """Each flare with the remission that ends it, None while no remission closes it."""
    remissions = timeline.of_type(RemissionConfirmed)
    for flare in timeline.of_type(FlareReported):
        closing = [r for r in remissions if r.exacerbation_ended_on >= flare.started_on]
        yield flare, min(closing, key=_remission_order, default=None)


def _remission_order(remission: RemissionConfirmed) -> tuple[date, date, str]:
    return remission.exacerbation_ended_on, remission.last_day_held, remission.event_id


def r_flare(timeline: Timeline, _policy: Policy) -> Iterator[Stretch]:
    """R-FLARE, ended by R-REMISSION: no massage from the start of a flare to its end."""
    for flare, remission in flare_episodes(timeline):
        yield flare.started_on, None if remission is None else day_after(remission.last_day_held)


def r_rheum_wait(timeline: Timeline, policy: Policy) -> Iterator[Stretch]:
    """R-RHEUM-WAIT: with rheumatic inflammation, a month's wait after the exacerbation.

    Rheumatic means the flare says so, or a profile in force on some day from the flare's
    start to the day the wait begins had the flag: a later profile update (a re-sent
    enrolment without it) never lifts a wait that has begun.
    """
    for flare, remission in flare_episodes(timeline):
        if remission is None:
            continue
        ended_on = remission.exacerbation_ended_on
        wait_begins = day_after(ended_on)
        profiles = timeline.profiles_in_force(flare.started_on, wait_begins)
        if flare.rheumatic or any(p.rheumatic_inflammation for p in profiles):
            yield wait_begins, add_months(ended_on, policy.rheumatic_wait_months)


def counts_as_contraindication(report: ContraindicationReported, policy: Policy) -> bool:
    """A fever counts from the policy threshold on; a report without a temperature counts."""
    temperature = report.body_temperature_c
    return report.kind != "fever" or temperature is None or temperature >= policy.fever_threshold_c


def contraindication_rule(kind: ContraindicationKind) -> BlockRule:
    """R-CONTRA-*: no massage from a report of `kind` until it is resolved."""

    def rule(timeline: Timeline, policy: Policy) -> Iterator[Stretch]:
        resolutions = [r for r in timeline.of_type(ContraindicationResolved) if r.kind == kind]
        for report in timeline.of_type(ContraindicationReported):
            if report.kind == kind and counts_as_contraindication(report, policy):
                closing = [r for r in resolutions if r.resolved_on >= report.observed_on]
                first = min(closing, key=_resolution_order, default=None)
                yield report.observed_on, None if first is None else day_after(first.last_day_held)

    return rule


def _resolution_order(resolution: ContraindicationResolved) -> tuple[date, date, str]:
    return resolution.resolved_on, resolution.last_day_held, resolution.event_id


def r_postop(timeline: Timeline, policy: Policy) -> Iterator[Stretch]:
    """R-POSTOP: after surgery, massage once cleared and the minimum days have passed."""
    clearances = timeline.of_type(MassageCleared)
    for surgery in timeline.of_type(SurgeryPerformed):
        closing = [c for c in clearances if c.cleared_on >= surgery.performed_on]
        first = min(closing, key=_clearance_order, default=None)
        earliest = surgery.performed_on + timedelta(days=policy.postop_min_days)
        yield (
            surgery.performed_on,
            None if first is None else max(first.first_day_allowed, earliest),
        )


def _clearance_order(clearance: MassageCleared) -> tuple[date, date, str]:
    return clearance.cleared_on, clearance.first_day_allowed, clearance.event_id


BLOCK_RULES: dict[RuleId, BlockRule] = {
    RuleId.FLARE: r_flare,
    RuleId.RHEUM_WAIT: r_rheum_wait,
    RuleId.CONTRA_BLEEDING: contraindication_rule("bleeding"),
    RuleId.CONTRA_INFLAMMATION: contraindication_rule("acute_inflammation"),
    RuleId.CONTRA_THROMBOSIS: contraindication_rule("vascular_thrombosis"),
    RuleId.CONTRA_FEVER: contraindication_rule("fever"),
    RuleId.POSTOP: r_postop,
}
