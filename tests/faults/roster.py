"""The invariant of the rostered clinics, where assignment depends on arrival order.

DOMAIN.md ("Therapists and time"): which patient gets a contested slot may depend on arrival
order; what never may: an overlap, a session outside working hours or on an absence, a lost
or doubled session. So a rostered clinic's plans are compared with the baseline only in what
the planner's core decides (`outcome.PLAN_WITHOUT_PLACES`), and the latest published plans
of all its courses together must keep:

- R-NO-OVERLAP: no two sessions of a therapist closer than the turnover (5 minutes);
- R-ROSTER: every placed session inside one working stretch of its therapist that day (the
  hours the workload published), never on the therapist's absence;
- every session accounted for: in a course under way each session is placed (therapist and
  start) or waits (no therapist); the waiting ones are the course's last (it waits from an
  R-CAPACITY shortage on), the placed ones keep the cadence (R-CADENCE); no session twice;
  a course not under way, or of the clinic without a roster, has no therapist at all;
- the planner's bookings table holds exactly the placements published, no more, no less.
"""

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tests.faults.outcome import Outcome
from tests.faults.run import Booked
from tests.faults.workload import ClinicRoster, Workload

TURNOVER_MIN = 5  # the planner's default (PLANNER_TURNOVER_MIN), which the suite keeps
CLINIC_ZONE = UTC  # the planner's default clinic time zone, which the suite keeps
UNDER_WAY = ("pending", "active")
DAYS_APART = {"daily": 1, "every_other_day": 2}  # at least (R-CADENCE)


@dataclass(frozen=True, slots=True)
class Placed:
    """A session published with a therapist and a start."""

    clinic_id: str
    patient_id: str
    course_id: str
    session_id: str
    on: date
    therapist_id: str
    starts_at: datetime
    ends_at: datetime

    def __str__(self) -> str:
        start, end = self.starts_at.astimezone(CLINIC_ZONE), self.ends_at.astimezone(CLINIC_ZONE)
        return (f"{self.session_id} ({self.therapist_id} of {self.clinic_id}, {self.on} "
                f"{start:%H:%M}-{end:%H:%M})")  # fmt: skip


def placements(run: Outcome, clinic_of: Mapping[str, str]) -> Iterator[Placed]:
    """Every session the latest plans of courses under way show with a therapist and start."""
    for course_id, plan in sorted(run.plans.items()):
        if plan["status"] not in UNDER_WAY:
            continue
        patient = plan["patient"]
        for s in plan["placed"]:
            if s["therapist_id"] is None or s["starts_at"] is None:
                continue
            start = datetime.fromisoformat(s["starts_at"])
            end = start + timedelta(minutes=s["duration_min"])
            on = date.fromisoformat(s["on"])
            yield Placed(clinic_of[patient], patient, course_id, s["session_id"], on,
                         s["therapist_id"], start, end)  # fmt: skip


def no_overlap(run: Outcome, clinic_of: Mapping[str, str]) -> list[str]:
    """R-NO-OVERLAP, turnover included, over every course of the clinic."""
    by_therapist: defaultdict[tuple[str, str], list[Placed]] = defaultdict(list)
    per_day: Counter[tuple[str, str, date]] = Counter()
    for placed in placements(run, clinic_of):
        by_therapist[placed.clinic_id, placed.therapist_id].append(placed)
        per_day[placed.clinic_id, placed.therapist_id, placed.on] += 1
    run.counts["sessions of the busiest therapist day"] = max(per_day.values(), default=0)
    turnover = timedelta(minutes=TURNOVER_MIN)
    problems = []
    for own in by_therapist.values():
        ordered = sorted(own, key=lambda p: (p.starts_at, p.session_id))
        problems += [
            f"{first} and {second} closer than the {TURNOVER_MIN}-minute turnover"
            for first, second in itertools.pairwise(ordered)
            if second.starts_at < first.ends_at + turnover
        ]
    return problems


def inside_hours(run: Outcome, workload: Workload) -> list[str]:
    """R-ROSTER: inside one stretch of the therapist's weekly hours, not on an absence."""
    rosters = {roster.clinic_id: roster for roster in workload.rosters}
    problems = []
    for placed in placements(run, workload.clinic_of):
        roster = rosters.get(placed.clinic_id)
        if roster is None:
            problems.append(f"{placed} in a clinic without a roster")
        elif why := _outside(placed, roster):
            problems.append(f"{placed} {why}")
    return problems


def _outside(placed: Placed, roster: ClinicRoster) -> str | None:
    start, end = placed.starts_at.astimezone(CLINIC_ZONE), placed.ends_at.astimezone(CLINIC_ZONE)
    if start.date() != placed.on:
        return f"starts on {start.date()}, not on its own day"
    if placed.therapist_id not in roster.hours:
        return "by a therapist not on the roster"
    absent = [(f, t) for who, f, t in roster.absences if who == placed.therapist_id]
    if any(first <= placed.on <= last for first, last in absent):
        return "on the therapist's absence"
    within = [
        (f, t) for weekday, f, t in roster.hours[placed.therapist_id]
        if weekday == placed.on.weekday()
        and f <= f"{start:%H:%M}" and end.date() == start.date() and f"{end:%H:%M}" <= t
    ]  # fmt: skip
    return None if within else "outside the therapist's hours"


def accounted(run: Outcome, workload: Workload) -> list[str]:
    """Each session placed or waiting, waiting only at its course's end, none twice, the
    cadence kept between placed sessions; no therapist where there must be none."""
    rostered = {roster.clinic_id for roster in workload.rosters}
    cadences = workload.cadences
    problems = []
    placed_count = waiting_count = past_count = 0
    # The planner never places a session dated before its clinic-local yesterday: such a
    # session without a therapist is past, neither placed nor waiting.
    yesterday = datetime.now(CLINIC_ZONE).date() - timedelta(days=1)
    for course_id, plan in sorted(run.plans.items()):
        sessions = plan["placed"]
        twice = [s for s, n in Counter(s["session_id"] for s in sessions).items() if n > 1]
        problems += [f"{session} published twice in {course_id}'s plan" for session in twice]
        clinic = workload.clinic_of[plan["patient"]]
        if clinic not in rostered or plan["status"] not in UNDER_WAY:
            problems += [
                f"{s['session_id']} of a {plan['status']} course of {clinic} has therapist "
                f"{s['therapist_id']}, where none may be"
                for s in sessions if s["therapist_id"] is not None
            ]  # fmt: skip
            continue
        waiting_since: str | None = None
        previous: date | None = None
        for s in sessions:
            if s["therapist_id"] is None and date.fromisoformat(s["on"]) < yesterday:
                past_count += 1
                continue
            if s["therapist_id"] is None:
                waiting_count += 1
                waiting_since = waiting_since or s["session_id"]
                continue
            placed_count += 1
            on = date.fromisoformat(s["on"])
            if s["starts_at"] is None:
                problems.append(f"{s['session_id']} has a therapist and no start")
            if waiting_since is not None:
                problems.append(f"{s['session_id']} placed after {waiting_since}, which waits")
            if previous is not None and (on - previous).days < DAYS_APART[cadences[course_id]]:
                problems.append(f"{s['session_id']} on {on}: {cadences[course_id]} cadence "
                                f"broken after {previous}")  # fmt: skip
            previous = on
    run.counts["sessions placed (rostered clinics)"] = placed_count
    run.counts["sessions waiting (rostered clinics)"] = waiting_count
    run.counts["sessions past, never placed (rostered clinics)"] = past_count
    return problems


def bookings_agree(
    run: Outcome, booked: Sequence[Booked], clinic_of: Mapping[str, str]
) -> list[str]:
    """The bookings table holds exactly the placements published."""
    published = {
        Booked(p.clinic_id, p.patient_id, p.session_id, p.therapist_id, p.starts_at, p.ends_at)
        for p in placements(run, clinic_of)
    }
    held = set(booked)
    run.counts["bookings held at the end"] = len(booked)
    return [f"booked, not published as placed: {b}" for b in sorted(held - published)] + [
        f"published as placed, not booked: {b}" for b in sorted(published - held)
    ]


def placed_otherwise(base: Outcome, run: Outcome, clinic_of: Mapping[str, str]) -> int:
    """Sessions placed on another day, at another start or by another therapist than in the
    baseline: what arrival order decided differently (counted, not a fault)."""
    where = {(p.patient_id, p.session_id): (p.on, p.starts_at, p.therapist_id)
             for p in placements(base, clinic_of)}  # fmt: skip
    return sum(
        where.get((p.patient_id, p.session_id)) != (p.on, p.starts_at, p.therapist_id)
        for p in placements(run, clinic_of)
    )


def roster_problems(
    run: Outcome, workload: Workload, booked: Sequence[Booked]
) -> dict[str, list[str]]:
    return {
        "sessions overlapping (R-NO-OVERLAP)": no_overlap(run, workload.clinic_of),
        "sessions outside hours or on an absence (R-ROSTER)": inside_hours(run, workload),
        "sessions not accounted for": accounted(run, workload),
        "bookings unlike the published placements": bookings_agree(run, booked, workload.clinic_of),
    }
