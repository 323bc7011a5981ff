"""The planner's Decider with and without rosters: what planning with capacity costs in CPU.

The `workload` stream of `bench.planner_core` (as `bench.workload` sends it), patients spread
over --clinics clinics of --therapists therapists each (hours as `bench.workload.rosters`),
interleaved step by step and cut into batches of --batch commands, as the planner consumes
them. Per batch and clinic, the bookings are built again from rows, as the shell loads them
(`booking_rows.held` → `Bookings.of`); then each command goes through `PlannerDecider.decide`,
`share` (the batch's later decisions see the bookings) and `encode`. No broker, no database.

    .venv/bin/python -m bench.planner_rosters --patients 1000 [--profile]
"""

import argparse
import cProfile
import pstats
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.planner_core import CALENDAR, TODAY, workload_commands
from bench.workload import HOURS, OPEN_WEEKDAYS, PLANNER_CLOCK_OFFSET_DAYS, ROSTER_SINCE_DAYS
from schemas.causes import Cause
from services.planner.capacity.bookings import Bookings
from services.planner.capacity.clock import parse_wall_clock
from services.planner.capacity.roster import Roster, Rostered, Stamp, Stretch, WeeklyStretch
from services.planner.commands import Command, UpdateProfile
from services.planner.decider import PlannerDecider
from services.planner.policy import PlannerPolicy
from services.planner.staffing import ClinicCapacity
from services.planner.state import PatientState
from services.runtime.decider import Context, Decided, Rejected

NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
# The planner's day, as `make bench` runs it: the day before the courses start, so that every
# session is placed (none is dated before its yesterday).
PLANNER_TODAY = TODAY + timedelta(days=PLANNER_CLOCK_OFFSET_DAYS)
PLANNER_NOW = NOW + timedelta(days=PLANNER_CLOCK_OFFSET_DAYS)


def roster(clinic_id: str, therapists: int) -> Roster:
    effective = TODAY - timedelta(days=ROSTER_SINCE_DAYS)
    stretch = Stretch(parse_wall_clock(HOURS[0]), parse_wall_clock(HOURS[1]))
    week = tuple(WeeklyStretch(day, stretch) for day in OPEN_WEEKDAYS)
    stamp = Stamp(NOW - timedelta(days=ROSTER_SINCE_DAYS + 1), f"{clinic_id}-roster")
    return Roster.from_facts(
        Rostered(f"T-{clinic_id}-{n}", week, effective, stamp) for n in range(therapists)
    )


def batches(patients: int, clinics: int, seed: int, size: int) -> list[list[tuple[str, Command]]]:
    """(patient, command) interleaved patient by patient, in batches of `size`."""
    rng = random.Random(seed)
    scripts = []
    for number in range(patients):
        commands = workload_commands(number, rng)
        clinic = f"K-{number % clinics:02d}" if clinics else ""
        first = commands[0]
        assert isinstance(first, UpdateProfile)
        commands[0] = UpdateProfile(
            first.event_id, first.occurred_at, first.rheumatic_inflammation,
            first.impaired_limb_blood_supply, first.knee_painful_on_palpation,
            first.severe_swelling, clinic,
        )  # fmt: skip
        scripts.append((f"B-{number:06d}", commands))
    longest = max(len(commands) for _, commands in scripts)
    stream = [(p, c[step]) for step in range(longest) for p, c in scripts if step < len(c)]
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def run(
    decider: PlannerDecider,
    work: Sequence[Sequence[tuple[str, Command]]],
    rosters: dict[str, Roster],
) -> dict[str, int]:
    """Every batch through the Decider; the bookings held at the end, per clinic."""
    states: dict[str, PatientState] = {}
    held: dict[str, Bookings] = {clinic_id: Bookings() for clinic_id in rosters}
    cause = Cause.internal("bench")
    for batch in work:
        # The shell's load: each clinic's bookings from their rows, once per batch.
        shared: Any = {
            clinic_id: ClinicCapacity(roster_, Bookings.of(list(held[clinic_id])))
            for clinic_id, roster_ in rosters.items()
        } or None
        for patient, command in batch:
            state = states.get(patient, PatientState())
            context = Context(PLANNER_TODAY, PLANNER_NOW, shared, patient)
            result = decider.decide(state, command, context)
            if isinstance(result, Rejected):
                continue
            new_state, outputs = result
            decided = Decided(patient, command, new_state, tuple(outputs), cause)
            shared = decider.share(shared, decided) if shared else shared
            decider.encode(decided)
            states[patient] = new_state
        if shared:
            held = {clinic_id: capacity.bookings for clinic_id, capacity in shared.items()}
    return {clinic_id: len(bookings) for clinic_id, bookings in held.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--clinics", type=int, default=10)
    parser.add_argument("--therapists", type=int, default=5)
    parser.add_argument("--batch", type=int, default=450, help="commands per consumed batch")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--profile", action="store_true", help="cProfile the run with rosters")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    args = parser.parse_args()
    decider = PlannerDecider(CALENDAR, PlannerPolicy(), "/clinics/bench/planner", "schedule")
    timings: dict[str, float] = {}
    for name, clinics in (("without rosters", 0), ("with rosters", args.clinics)):
        work = batches(args.patients, clinics, args.seed, args.batch)
        rosters = {f"K-{n:02d}": roster(f"K-{n:02d}", args.therapists) for n in range(clinics)}
        profile = cProfile.Profile() if args.profile and clinics else None
        started = time.process_time()
        if profile is not None:
            profile.enable()
        held = run(decider, work, rosters)
        if profile is not None:
            profile.disable()
        timings[name] = time.process_time() - started
        count = sum(len(batch) for batch in work)
        booked = f"; {sum(held.values())} bookings held" if held else ""
        print(f"{name:<16} {1000 * timings[name] / count:.3f} ms per command ({count}){booked}")
        if profile is not None:
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    without, with_ = timings["without rosters"], timings["with rosters"]
    print(f"planning with capacity: {with_ / without:.2f} times the Decider's CPU without")


if __name__ == "__main__":
    main()
