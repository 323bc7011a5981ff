"""The planner's pure core alone: ms per command for `decide`, the output events, the state.

Per patient, as core commands: an enrolment, a prescription, eligibility decisions (a flare
and its remission for some, a fever for others), physical therapy bookings, 15 session
outcomes (one in ten not performed); three in ten patients come back after a course half a
year ago (15 more completions). In the `clinic` stream each outcome is on the day its
session was planned, as a clinic would report; in the `workload` stream session n is on day
n, whatever the plan, as `bench.workload` sends them (most outcomes move the plan). No
broker, no database: the CPU the planner spends per command in its core and output mapping.

    .venv/bin/python -m bench.planner_core --patients 1000 [--stream workload]
"""

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING

from schemas.causes import Cause
from schemas.codec import to_bytes
from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.cadence import Cadence
from services.planner.calendar import ClinicCalendar
from services.planner.commands import (
    Command,
    EligibilityChanged,
    NotPerformedReason,
    PhysicalTherapyBooked,
    PrescribeCourse,
    SessionCompleted,
    SessionNotPerformed,
    UpdateProfile,
)
from services.planner.decide import decide
from services.planner.state import PatientState
from services.planner.wire_out import Envelopes, to_wire

if TYPE_CHECKING:
    from services.planner.outputs import Output

CALENDAR = ClinicCalendar("Europe/Berlin")
TODAY = date(2026, 11, 30)
RETURNING = 0.3  # patients with an earlier course, all of it done


def _at(offset: int, hour: int = 9) -> datetime:
    return datetime.combine(TODAY + timedelta(days=offset), clock_time(hour), tzinfo=UTC)


def _block(rule: str, since: date, until: date | None) -> Block:
    return Block(rule=RuleId(rule), since=since, until=until)


def _eligibility(
    patient: str, version: int, offset: int, blocks: tuple[Block, ...], history: tuple[Block, ...]
) -> EligibilityChanged:
    return EligibilityChanged(
        f"{patient}-el{version}", _at(offset, 12), not blocks, None, blocks, version, history
    )


def _admission(patient: str, rng: random.Random) -> list[Command]:
    """The enrolment, the first decision, an earlier course for some, the prescription."""
    rheumatic, impaired, painful, swollen = (rng.random() < p for p in (0.1, 0.1, 0.3, 0.1))
    return [
        UpdateProfile(f"{patient}-enrolled", _at(-30), rheumatic, impaired, painful, swollen),
        _eligibility(patient, 1, -30, (), ()),
        *(_earlier_course(patient) if rng.random() < RETURNING else ()),
        PrescribeCourse(
            f"{patient}-rx", _at(-28), f"C-{patient}-1", rng.choice((15, 15, 18, 20)),
            rng.choice(tuple(Cadence)), TODAY - timedelta(days=25),
            rng.choice((clock_time(9), clock_time(10), clock_time(14, 30), None)),
        ),
    ]  # fmt: skip


def workload_commands(number: int, rng: random.Random) -> list[Command]:
    """As `bench.workload` sends them: session n done on day n of the run, whatever the plan."""
    patient = f"B-{number:06d}"
    course = f"C-{patient}-1"
    commands = _admission(patient, rng)
    outcomes: list[Command] = []
    for number_ in range(1, 16):
        session = f"{course}-s{number_:02d}"
        offset = min(-24 + number_, 0)
        if rng.random() < 0.1:
            reason = rng.choice(tuple(NotPerformedReason)[:3])
            outcomes.append(
                SessionNotPerformed(f"{patient}-o{number_}", _at(offset), course, session, reason)
            )
        else:
            done = _at(offset, 10)
            outcomes.append(SessionCompleted(f"{patient}-o{number_}", done, course, session, done))
    episodes: list[list[Command]] = []
    version = 1
    for rule, chance, earliest, latest in (
        ("R-FLARE", 0.3, -15, -8),
        ("R-CONTRA-FEVER", 0.25, -12, -4),
    ):
        if rng.random() < chance:
            start = rng.randint(earliest, latest)
            since, until = TODAY + timedelta(days=start), TODAY + timedelta(days=start + 4)
            held, over = (_block(rule, since, None),), (_block(rule, since, until),)
            episodes.append(
                [
                    _eligibility(patient, version + 1, start, held, ()),
                    _eligibility(patient, version + 2, start + 4, (), over),
                ]
            )
            version += 2
    for n in range(rng.choice((0, 0, 1, 2))):
        starts = _at(rng.randint(1, 10), 10)
        booking = PhysicalTherapyBooked(f"{patient}-pt{n}", _at(-1), f"PT-{patient}-{n}", starts)
        episodes.append([booking])
    body: list[list[Command]] = [[o] for o in outcomes]
    for episode in episodes:
        body.insert(rng.randint(0, len(body)), episode)
    return commands + [c for block in body for c in block]


def _earlier_course(patient: str) -> list[Command]:
    """A returning patient: a course half a year ago, every session done as planned."""
    course, start = f"C-{patient}-0", TODAY - timedelta(days=200)
    commands: list[Command] = [
        PrescribeCourse(f"{patient}-rx0", _at(-201), course, 15, Cadence.DAILY, start, None)
    ]
    day = CALENDAR.next_open_on_or_after(start)
    for n in range(1, 16):
        done = datetime.combine(day, clock_time(10), tzinfo=UTC)
        commands.append(
            SessionCompleted(f"{patient}-d{n}", done, course, f"{course}-s{n:02d}", done)
        )
        day = CALENDAR.next_open_after(day)
    return commands


def clinic_commands(number: int, rng: random.Random) -> list[Command]:
    """As a clinic would send them: each outcome on the day its session was planned (the
    plan read from the patient's state as it goes), episodes in clinical order.
    """
    patient = f"B-{number:06d}"
    commands = _admission(patient, rng)
    state = PatientState()
    for command in commands:
        state, _ = decide(state, command, CALENDAR.local_date(command.occurred_at), CALENDAR)
    episodes = ["flare"] * (rng.random() < 0.3) + ["fever"] * (rng.random() < 0.25)
    steps = ["outcome"] * 15 + episodes + ["pt"] * rng.choice((0, 0, 1, 2))
    rng.shuffle(steps)
    version = 1
    for n, step in enumerate(steps):
        course = state.published[-1]
        done = {a.session_id for a in state.attempts if a.completed}
        upcoming = [s for s in course.sessions if s.session_id not in done]
        if not upcoming:
            break
        day = upcoming[0].on
        new: list[Command] = []
        if step == "outcome" and rng.random() < 0.9:
            at = datetime.combine(day, clock_time(10), tzinfo=UTC)
            new = [
                SessionCompleted(
                    f"{patient}-o{n}", at, course.course_id, upcoming[0].session_id, at
                )
            ]
        elif step == "outcome":
            reason = rng.choice(tuple(NotPerformedReason)[:3])
            at = datetime.combine(day, clock_time(10), tzinfo=UTC)
            new = [
                SessionNotPerformed(
                    f"{patient}-o{n}", at, course.course_id, upcoming[0].session_id, reason
                )
            ]
        elif step == "pt":
            starts = datetime.combine(day, clock_time(10, 30), tzinfo=UTC)
            at = datetime.combine(day - timedelta(days=1), clock_time(9), tzinfo=UTC)
            new = [PhysicalTherapyBooked(f"{patient}-pt{n}", at, f"PT-{patient}-{n}", starts)]
        else:
            rule = "R-FLARE" if step == "flare" else "R-CONTRA-FEVER"
            offset = (day - TODAY).days
            held, over = (_block(rule, day, None),), (_block(rule, day, day + timedelta(days=4)),)
            new = [
                _eligibility(patient, version + 1, offset, held, ()),
                _eligibility(patient, version + 2, offset + 3, (), over),
            ]
            version += 2
        for command in new:
            state, _ = decide(state, command, CALENDAR.local_date(command.occurred_at), CALENDAR)
        commands += new
    return commands


STREAMS = {"clinic": clinic_commands, "workload": workload_commands}


def stream(patients: int, seed: int, kind: str) -> list[tuple[str, list[Command]]]:
    rng = random.Random(seed)
    return [(f"B-{n:06d}", STREAMS[kind](n, rng)) for n in range(patients)]


def _timed(run: Callable[[], None]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--stream", choices=sorted(STREAMS), default="clinic",
        help="clinic: sessions done on their planned day; workload: as bench.workload",
    )  # fmt: skip
    args = parser.parse_args()
    patients = stream(args.patients, args.seed, args.stream)
    count = sum(len(commands) for _, commands in patients)
    decided: list[tuple[str, PatientState, tuple[Output, ...]]] = []

    def run_decide() -> None:
        decided.clear()
        for patient, commands in patients:
            state = PatientState()
            for command in commands:
                today = CALENDAR.local_date(command.occurred_at)
                state, outputs = decide(state, command, today, CALENDAR)
                decided.append((patient, state, outputs))

    def run_events() -> None:
        now = datetime.now(UTC)
        for patient, state, outputs in decided:
            envelopes = Envelopes("/clinics/bench/planner", patient, Cause.internal("c"), now)
            for output in outputs:
                event = to_wire(output, state, envelopes)
                if event is not None:
                    to_bytes(event)

    def run_state_as_dicts() -> None:
        for _, state, _ in decided:
            PatientState.from_json(json.loads(json.dumps(state.to_json())))

    def run_state_as_text() -> None:
        for _, state, _ in decided:
            PatientState.from_json_text(state.to_json_text())

    timings: dict[str, float] = {}
    for name, run in (
        ("decide", run_decide),
        ("events", run_events),
        ("state as dicts", run_state_as_dicts),
        ("state as text", run_state_as_text),
    ):
        timings[name] = min(_timed(run) for _ in range(args.repeat))
    outputs = sum(len(o) for *_, o in decided)
    print(
        f"{args.stream} stream: {args.patients} patients, {count} commands, {outputs} outputs"
        f" (best of {args.repeat}), CPU ms per command:"
    )
    for name, seconds in timings.items():
        print(f"  {name:<15} {1000 * seconds / count:.3f}")
    print("  events: to_wire + to_bytes of every output; state: the state after each command")
    print("  to its JSON and back (as dicts: to_json, json.dumps, json.loads, from_json)")


if __name__ == "__main__":
    main()
