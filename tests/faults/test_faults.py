"""Faults, bad input and shuffles: nothing lost, nothing doubled, no partition stalled.

The same generated clinic stream goes through a fault-free baseline run and through faulted
runs (each with topics and a database of its own, on a broker and a cluster of this module's
own). During a faulted run each service is killed with SIGKILL at random moments, the broker
and PostgreSQL are restarted, a consumer group is reset to offset 0 (full redelivery), poison
messages are mixed into the stream, and some patients' clinical facts arrive shuffled.
Then: final decisions and plans equal the baseline's, one notice per cause, kind and
recipient, every poison message dead-lettered by both consumers, every group at the end.

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
from pathlib import Path
from typing import Any

import pytest

from tests.faults.faults import Injector, plan
from tests.faults.infra import Infra
from tests.faults.outcome import (
    Outcome,
    every_cause_noticed,
    one_notice_per_cause,
    poison_dead_lettered,
    same_decisions,
    same_plans,
)
from tests.faults.run import Run, Sent, counted
from tests.faults.size import chosen
from tests.faults.workload import POISON_KINDS, Message, Workload, generate, poison

SIZE = chosen()
FAULTS_MARK = pytest.mark.faults
pytestmark = [FAULTS_MARK, pytest.mark.timeout(SIZE.timeout_s)]
SEED = int(os.environ.get("COURSEFLOW_FAULTS_SEED") or random.randrange(1_000_000))
QUIESCE_S = 240 if SIZE.name == "long" else 120
PLAN = ("status", "sessions", "completed_sessions")


def report(folder: Path, name: str, counts: dict[str, Any]) -> None:
    """Printed (shown with -s) and written as JSON next to the run's service logs."""
    path = folder / f"{name}.counts.json"
    path.write_text(json.dumps(counts, indent=2, sort_keys=True))
    print(f"\n== fault suite ({SIZE.name}, seed {SEED}) {name}: {path}")
    print(json.dumps(counts, indent=2, sort_keys=True))


@pytest.fixture(scope="module")
def workload() -> Workload:
    return generate(SIZE.patients, shuffled_share=SIZE.shuffled_share, seed=SEED,
                    tag=uuid.uuid4().hex[:6])  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault-runs")


def dump(path: Path, workload: Workload) -> None:
    """Each patient's events, in the clinic's order (for reading a failure)."""
    scripts = {
        patient: [json.loads(m.value) for m in script]
        for patient, script in workload.scripts.items()
    }
    path.write_text(json.dumps({"shuffled": sorted(workload.shuffled), "scripts": scripts}))


@pytest.fixture(scope="module")
async def baseline(infra: Infra, workload: Workload, folder: Path) -> Outcome:
    """The same input, in the clinic's order, with no fault at all."""
    run = Run(infra, f"{uuid.uuid4().hex[:8]}-base", folder / "baseline")
    dump(folder / "workload.json", workload)
    started = time.monotonic()
    await run.open()
    try:
        for message in workload.stream(shuffle=False, seed=SEED):
            await run.send(message)
        await run.quiesce(QUIESCE_S)
        outcome = Outcome.of(await run.read_published(), run.topics)
    finally:
        await run.close()
    problems = every_cause_noticed(outcome) + one_notice_per_cause(outcome)
    report(folder, "baseline", {
        "patients": len(workload.scripts), "events sent": len(run.sent),
        "event mix": counted([m.kind for m in (s.message for s in run.sent)]),
        **outcome.counts, "seconds": round(time.monotonic() - started, 1),
    })  # fmt: skip
    assert not problems, "the fault-free baseline itself: " + "\n".join(problems[:40])
    return outcome


def with_poison(stream: list[Message], rng: random.Random, per_kind: int) -> list[Message]:
    mixed = list(stream)
    patients = sorted({m.patient for m in stream})
    for n in range(per_kind):
        for kind in POISON_KINDS:
            mixed.insert(rng.randrange(len(mixed) + 1), poison(kind, rng.choice(patients), n))
    return mixed


@pytest.mark.parametrize("round_", range(SIZE.rounds))
async def test_a_faulted_run_ends_as_the_baseline(
    infra: Infra, workload: Workload, baseline: Outcome, folder: Path, round_: int
) -> None:
    rng = random.Random(SEED * 100 + round_)
    stream = with_poison(workload.stream(shuffle=True, seed=SEED + round_), rng,
                         per_kind=1 if SIZE.name == "short" else 3)  # fmt: skip
    run = Run(infra, f"{uuid.uuid4().hex[:8]}-r{round_}", folder / f"round-{round_}")
    injector = Injector(infra, run, rng)
    started = time.monotonic()
    await run.open()
    feeding = asyncio.create_task(run.feed(stream, seconds=SIZE.feed_seconds))
    try:
        await injector.play(plan(rng, SIZE.random_faults), within_s=SIZE.feed_seconds)
        await feeding
        quiesced_in = await run.quiesce(QUIESCE_S)
        stalled = await run.lagging()
        duplicates = await run.metrics_duplicates()
        outcome = Outcome.of(await run.read_published(), run.topics)
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        await run.close()

    poisoned = [s for s in run.sent if s.message.poison]
    problems = [
        *same_decisions(baseline, outcome),
        *same_plans(baseline, outcome, fields=PLAN),  # shuffled patients' plans too
        *every_cause_noticed(outcome),
        *one_notice_per_cause(outcome),
        *poison_dead_lettered(outcome, poisoned, run.topics),
        *(f"stalled: {where}" for where in stalled),
    ]
    counts = _counts(run, injector, outcome, poisoned, duplicates)
    counts |= {
        "shuffled patients": len(workload.shuffled),
        "seconds to quiescence after the last fault and event": round(quiesced_in, 1),
        "seconds": round(time.monotonic() - started, 1),
        "problems": len(problems),
    }
    report(folder, f"round-{round_}", counts)
    assert not problems, "\n".join(problems[:40])


def _counts(
    run: Run, injector: Injector, outcome: Outcome, poisoned: list[Sent], dup: dict[str, int]
) -> dict[str, Any]:
    valid = [s for s in run.sent if not s.message.poison]
    return {
        "events sent": len(valid),
        "events re-sent by the clinic while the broker was away": run.send_retries,
        "poison messages": counted([s.message.kind for s in poisoned]),
        "faults injected": dict(Counter(injector.injected).most_common()),
        "fault timeline": injector.timeline,
        "duplicates absorbed (inbox, from /metrics of every process life)": dup,
        "output events republished (same id)": {
            topic.rsplit(".", 1)[-1]: n for topic, n in outcome.republished.items()
        },
        **outcome.counts,
    }
