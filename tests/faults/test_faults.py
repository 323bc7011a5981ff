"""Faults, bad input and shuffles: nothing lost, nothing doubled, no partition stalled.

The same generated clinic stream goes through a fault-free baseline run and through faulted
runs (each with topics and a database of its own, on a broker and a durable cluster of this
module's own). A faulted run has two replicas of every service; at random moments a replica
is killed with SIGKILL, stopped, or paused past its consumer session timeout, the broker and
PostgreSQL are restarted, PostgreSQL crashes (kill -9 of the postmaster), a consumer group
is reset to offset 0 (full redelivery), poison messages (bad values, bad keys, a record near
the broker's limit; malformed staff events) are mixed into the stream, and some patients'
clinical facts arrive shuffled. Some clinics publish a roster before the stream and an
absence in its middle. Then: final decisions equal the baseline's; plans too for the clinic
without a roster, and for the rostered ones in all the planner's core decides, while their
sessions never overlap, stay inside the therapists' hours, are all accounted for and agree
with the bookings table (tests/faults/roster.py); one notice per cause, kind and recipient,
every notice delivered reached its peer under exactly its own key, every poison message
dead-lettered by each consumer of its topic as the contract says and nothing else
dead-lettered, every group at the end.

Short by default (inside `make test`); `COURSEFLOW_FAULTS=long` for the long form.
See docs/reliability.md.
"""

import asyncio
import contextlib
import json
import os
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.faults.faults import Injector, plan
from tests.faults.infra import Infra
from tests.faults.outcome import (
    PLAN,
    PLAN_WITHOUT_PLACES,
    Outcome,
    dead_letters_exact,
    delivered_once_per_key,
    every_cause_noticed,
    one_notice_per_cause,
    same_decisions,
    same_plans,
)
from tests.faults.roster import placed_otherwise, roster_problems
from tests.faults.run import NotQuiescent, Run, Sent, counted
from tests.faults.size import chosen
from tests.faults.workload import (
    OPEN_CLINIC,
    POISON_KINDS,
    STAFF_POISON_KINDS,
    Message,
    Workload,
    generate,
    poison,
    staff_poison,
)

SIZE = chosen()
FAULTS_MARK = pytest.mark.faults
pytestmark = [FAULTS_MARK, pytest.mark.timeout(SIZE.timeout_s)]
SEED = int(os.environ.get("COURSEFLOW_FAULTS_SEED") or random.randrange(1_000_000))
QUIESCE_S = 240 if SIZE.name == "long" else 120
REPLICAS = 2  # of every service in a faulted run
# All by default; a comma-separated subset only to bisect a failure (the counts name it).
ALL_POISON = ",".join((*POISON_KINDS, *STAFF_POISON_KINDS))
POISON = tuple((os.environ.get("COURSEFLOW_FAULTS_POISON") or ALL_POISON).split(","))


def report(folder: Path, name: str, counts: dict[str, Any]) -> None:
    """Printed (shown with -s) and written as JSON next to the run's service logs."""
    path = folder / f"{name}.counts.json"
    path.write_text(json.dumps(counts, indent=2, sort_keys=True))
    print(f"\n== fault suite ({SIZE.name}, seed {SEED}) {name}: {path}")
    print(json.dumps(counts, indent=2, sort_keys=True))


def keep_plans(folder: Path, name: str, outcome: Outcome) -> None:
    """The last plan of each course, as published (for reading a failure)."""
    plans = {course: {k: plan[k] for k in ("patient", "status", "placed")}
             for course, plan in outcome.plans.items()}  # fmt: skip
    (folder / f"{name}.plans.json").write_text(json.dumps(plans, sort_keys=True))


async def test_the_cluster_is_durable(infra: Infra) -> None:
    """The crash fault means something only if a commit is on disk when acknowledged."""
    on = dict.fromkeys(("fsync", "full_page_writes", "synchronous_commit"), "on")
    assert await infra.durability() == on


@pytest.fixture(scope="module")
def workload() -> Workload:
    return generate(SIZE.patients, shuffled_share=SIZE.shuffled_share, seed=SEED,
                    tag=uuid.uuid4().hex[:6], rostered_clinics=SIZE.rostered_clinics)  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault-runs")


def dump(path: Path, workload: Workload) -> None:
    """Each patient's events, in the clinic's order (for reading a failure)."""
    scripts = {
        patient: [json.loads(m.value) for m in script]
        for patient, script in workload.scripts.items()
    }
    staff = [json.loads(m.value) for r in workload.rosters for m in (*r.rostering, *r.changes)]
    path.write_text(json.dumps({"shuffled": sorted(workload.shuffled), "scripts": scripts,
                                "clinics": workload.clinic_of, "staff": staff}))  # fmt: skip


def plans_unlike(baseline: Outcome, run: Outcome, workload: Workload) -> list[str]:
    """Equal plans without a roster; with one, equal in what does not depend on arrival order."""
    open_clinic = {p for p, c in workload.clinic_of.items() if c == OPEN_CLINIC}
    rostered = set(workload.clinic_of) - open_clinic
    return [
        *same_plans(baseline, run, fields=PLAN, patients=open_clinic),
        *same_plans(baseline, run, fields=PLAN_WITHOUT_PLACES, patients=rostered),
    ]


@pytest.fixture(scope="module")
async def baseline(infra: Infra, workload: Workload, folder: Path) -> Outcome:
    """The same input, in the clinic's order, with no fault at all."""
    run = Run(infra, f"{uuid.uuid4().hex[:8]}-base", folder / "baseline")
    dump(folder / "workload.json", workload)
    started = time.monotonic()
    await run.open()
    try:
        await run.rostered(workload.rostering)
        for message in workload.stream(shuffle=False, seed=SEED):
            await run.send(message)
        await run.quiesce(QUIESCE_S)
        outcome = Outcome.of(await run.read_published(), run.topics)
        booked = await run.bookings()
        peers = run.peers()
    finally:
        await run.close()
    keep_plans(folder, "baseline", outcome)
    rostered = roster_problems(outcome, workload, booked)
    problems = [
        *every_cause_noticed(outcome), *one_notice_per_cause(outcome),
        *delivered_once_per_key(outcome, peers), *dead_letters_exact(outcome, [], run.topics),
        *(line for found in rostered.values() for line in found),
    ]  # fmt: skip
    report(folder, "baseline", {
        "patients": len(workload.scripts), "events sent": len(run.sent),
        "event mix": counted([m.kind for m in (s.message for s in run.sent)]),
        **outcome.counts, "seconds": round(time.monotonic() - started, 1),
    })  # fmt: skip
    assert not problems, "the fault-free baseline itself: " + "\n".join(problems[:40])
    return outcome


def with_poison(
    stream: list[Message], rng: random.Random, per_kind: int, workload: Workload
) -> list[Message]:
    """Poison at random positions; a valid event under a bad key after its subject's last
    event, so that only its key can get it dead-lettered (not an unknown patient). Staff
    poison under a rostered clinic's key (or another clinic's, or none)."""
    mixed = list(stream)
    patients = sorted({m.patient for m in stream if not m.staff})
    clinics = [r.clinic_id for r in workload.rosters]
    today = datetime.now(UTC).date()
    for n in range(per_kind):
        for kind in POISON:
            if kind in STAFF_POISON_KINDS:
                if clinics:
                    message = staff_poison(kind, rng.choice(clinics), n, other=OPEN_CLINIC,
                                           today=today)  # fmt: skip
                    mixed.insert(rng.randint(0, len(mixed)), message)
                continue
            patient, other = rng.sample(patients, 2)
            message = poison(kind, patient, n, other=other)
            earliest = 0
            if message.key != patient.encode():
                earliest = 1 + max(i for i, m in enumerate(mixed) if m.patient == patient)
            mixed.insert(rng.randint(earliest, len(mixed)), message)
    return mixed


def explained(problems: dict[str, list[str]], shown: int = 20, width: int = 300) -> str:
    """Each kind of problem with its count and its first lines: the cause shows first."""
    parts = [
        "\n".join([f"== {what}: {len(found)}", *(line[:width] for line in found[:shown])])
        for what, found in problems.items()
        if found
    ]
    return "\n".join(parts)


@pytest.mark.parametrize("round_", range(SIZE.rounds))
async def test_a_faulted_run_ends_as_the_baseline(
    infra: Infra, workload: Workload, baseline: Outcome, folder: Path, round_: int
) -> None:
    rng = random.Random(SEED * 100 + round_)
    stream = with_poison(workload.stream(shuffle=True, seed=SEED + round_), rng,
                         per_kind=1 if SIZE.name == "short" else 3, workload=workload)  # fmt: skip
    run = Run(infra, f"{uuid.uuid4().hex[:8]}-r{round_}", folder / f"round-{round_}",
              replicas=REPLICAS)  # fmt: skip
    injector = Injector(infra, run, rng)
    started = time.monotonic()
    not_quiescent: list[str] = []
    await run.open()
    await run.rostered(workload.rostering)
    feeding = asyncio.create_task(run.feed(stream, seconds=SIZE.feed_seconds))
    try:
        # the pauses between faults add a quarter of the feed: the faults fill the rest
        await injector.play(plan(rng, SIZE.random_faults), within_s=SIZE.feed_seconds / 4)
        await feeding
        try:
            quiesced_in = await run.quiesce(QUIESCE_S)
        except NotQuiescent as stuck:  # judged with the rest: the poison that stalled it shows
            quiesced_in, not_quiescent = QUIESCE_S, stuck.stuck
        stalled = await run.lagging()
        scraped = await run.scraped()
        outcome = Outcome.of(await run.read_published(), run.topics)
        booked = await run.bookings()
        peers = run.peers()
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        await run.close()

    poisoned = [s for s in run.sent if s.message.poison]
    problems = {
        f"not quiescent in {QUIESCE_S}s, still stuck": not_quiescent,
        "stalled partitions": [f"{where}" for where in stalled],
        "dead letters unlike the contract": dead_letters_exact(outcome, poisoned, run.topics),
        "notices not delivered once per key": delivered_once_per_key(outcome, peers),
        "causes without their notice": every_cause_noticed(outcome),
        "notices not one per cause": one_notice_per_cause(outcome),
        "decisions unlike the baseline": same_decisions(baseline, outcome),
        # shuffled patients' plans too
        "plans unlike the baseline": plans_unlike(baseline, outcome, workload),
        **roster_problems(outcome, workload, booked),
    }
    counts = _counts(run, injector, outcome, poisoned, scraped)
    counts |= {
        "replicas of every service": REPLICAS,
        "shuffled patients": len(workload.shuffled),
        "clinics (rostered)": f"{len(workload.rosters) + 1} ({len(workload.rosters)})",
        "rostered sessions placed otherwise than in the baseline": placed_otherwise(
            baseline, outcome, workload.clinic_of
        ),
        "seconds to quiescence after the last fault and event": round(quiesced_in, 1),
        "seconds": round(time.monotonic() - started, 1),
        "problems": {what: len(found) for what, found in problems.items() if found},
    }
    report(folder, f"round-{round_}", counts)
    keep_plans(folder, f"round-{round_}", outcome)
    if any(problems.values()):
        pytest.fail(explained(problems), pytrace=False)


def _counts(
    run: Run,
    injector: Injector,
    outcome: Outcome,
    poisoned: list[Sent],
    scraped: dict[str, Counter[str]],
) -> dict[str, Any]:
    valid = [s for s in run.sent if not s.message.poison]
    duplicates: Counter[str] = Counter()
    for label, metrics in scraped.items():
        duplicates[label.split("#")[0]] += metrics["duplicates"]
    return {
        "events sent": len(valid),
        "events re-sent by the clinic while the broker was away": run.send_retries,
        "poison messages": counted([s.message.kind for s in poisoned]),
        "faults injected": dict(Counter(injector.injected).most_common()),
        "fault timeline": injector.timeline,
        "duplicates absorbed (inbox, from /metrics of every replica's every life)": dict(
            sorted(duplicates.items())
        ),
        # Both replicas of a service publishing: the relay's lock passed from one to the other.
        "outbox rows published per replica (relay failover)": {
            label: metrics["published"] for label, metrics in sorted(scraped.items())
        },
        "output events republished (same id)": {
            topic.rsplit(".", 1)[-1]: n for topic, n in outcome.republished.items()
        },
        **outcome.counts,
    }
