"""One broker of three killed (kill -9) while events stream through the three services:
nothing lost, nothing doubled, every input's effects present once.

The cluster is the README's: `courseflow stack up --brokers 3` (three KRaft broker+controller
nodes, a 3-voter quorum) in a directory and on ports of this module's own, stopped with
`courseflow stack down`. Topics get replication factor 3 and min.insync.replicas 2 from
the cluster's size, producers use acks=all, so every acknowledged record is on two brokers.

The same clinic stream goes through a fault-free run and through a run during which the
broker leading the clinic topic's first partition is killed; final decisions and plans must
be equal, one notice per cause, kind and recipient, no dead letter, every group at the end.
Short by default (inside `make test`); `COURSEFLOW_FAULTS=long` also restarts the killed
broker and then kills another one.
"""

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.runtime.topics import ensure_topics
from services.stack import process
from services.stack.cluster import KafkaCluster
from services.stack.kafka import KafkaStack
from services.stack.postgres import PostgresStack
from tests.faults.infra import Infra
from tests.faults.outcome import (
    Outcome,
    every_cause_noticed,
    one_notice_per_cause,
    same_decisions,
    same_plans,
)
from tests.faults.run import ROOT, Run
from tests.faults.size import chosen
from tests.faults.workload import Workload, generate
from tests.integration.test_topic_durability import TOPIC_CONFIG_SOURCE, topic_durability

SIZE = chosen()
LONG = SIZE.name == "long"
BROKERS = 3
PATIENTS = 40 if LONG else 12
FEED_S = 40.0 if LONG else 15.0
QUIESCE_S = 240 if LONG else 150
SEED = int(os.environ.get("COURSEFLOW_FAULTS_SEED") or random.randrange(1_000_000))
pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200 if LONG else 600)]


def free_port_block(size: int) -> int:
    """A first port of `size` free consecutive ports, below the kernel's ephemeral range
    (32768 and up), so no client connection takes one of them meanwhile."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000 - size)
        try:
            for port in range(base, base + size):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no block of free ports found")


@dataclass(frozen=True)
class ClusterInfra(Infra):
    """Infra whose Kafka is a local cluster started and stopped by the `courseflow` CLI."""

    cluster: KafkaCluster
    env: dict[str, str]

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap_servers

    def courseflow(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", *args], env=self.env, cwd=ROOT,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        self.courseflow("stack", "up", "--brokers", str(BROKERS))

    def stop(self) -> None:
        self.courseflow("stack", "down")


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfra]:
    local = tmp_path_factory.mktemp("broker-loss")
    (local / "kafka").mkdir()
    (local / "kafka" / "libs").symlink_to(KafkaStack.from_env().libs.resolve())  # cached jars
    base = free_port_block(2 * BROKERS + 1)
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COURSEFLOW_") and k != "DATABASE_URL"
    }
    env = {
        **inherited, "COURSEFLOW_LOCAL_DIR": str(local), "COURSEFLOW_KAFKA_PORT": str(base),
        "COURSEFLOW_KAFKA_CONTROLLER_PORT": str(base + 1),
        "COURSEFLOW_PG_PORT": str(base + 2 * BROKERS),
    }  # fmt: skip
    cluster = KafkaCluster.local(local / "kafka", BROKERS, port=base, controller_port=base + 1)
    postgres = PostgresStack(home=local / "postgres", port=base + 2 * BROKERS)
    own = ClusterInfra(cluster.nodes[0], postgres, cluster, env)
    try:
        own.start()
        yield own
    finally:
        own.stop()
        assert not cluster.running(), "a node outlived `courseflow stack down`"
        data = postgres.data_dir.parent
        if not data.is_relative_to(local):  # as root the cluster lives where its owner reaches
            shutil.rmtree(data, ignore_errors=True)


def test_stack_status_shows_three_registered_nodes(infra: ClusterInfra) -> None:
    status = infra.courseflow("stack", "status")
    assert status.count("registered=True") == BROKERS, status


async def test_topics_get_replication_three_and_min_insync_two(infra: ClusterInfra) -> None:
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic], partitions=3)
    assert await topic_durability(infra.bootstrap, topic) == (3, "2", TOPIC_CONFIG_SOURCE)


@pytest.fixture(scope="module")
def workload() -> Workload:
    return generate(PATIENTS, shuffled_share=0.0, seed=SEED, tag=uuid.uuid4().hex[:6])


async def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    (found,) = [p for p in described["partitions"] if p["partition"] == partition]
    return int(found["leader"])


async def kill_broker(infra: ClusterInfra, run: Run, timeline: list[str]) -> int:
    """kill -9 of the broker leading the clinic topic's partition 0 (its clients must move)."""
    node = await leader_of(infra.bootstrap, run.topics.patient_events, 0)
    assert process.kill(infra.cluster.node(node).pid_file), f"node {node} was not running"
    timeline.append(f"kill -9 broker {node} after {len(run.sent)} events")
    return node


async def restart_broker(infra: ClusterInfra, node: int, timeline: list[str]) -> None:
    await asyncio.to_thread(infra.cluster.start_node, infra.cluster.node(node))
    deadline = time.monotonic() + 120
    while not await asyncio.to_thread(infra.cluster.complete):
        assert time.monotonic() < deadline, f"broker {node} did not rejoin in time"
        await asyncio.sleep(1)
    timeline.append(f"broker {node} restarted and registered again")


async def one_run(infra: ClusterInfra, workload: Workload, folder: Path, *, faulted: bool):
    run = Run(infra, f"{uuid.uuid4().hex[:8]}-{'kill' if faulted else 'base'}", folder)
    timeline: list[str] = []
    await run.open()
    try:
        stream = workload.stream(shuffle=False, seed=SEED)
        feeding = asyncio.create_task(run.feed(stream, seconds=FEED_S if faulted else 1.0))
        if faulted:
            await asyncio.sleep(FEED_S / 4)  # pacing: the kill lands while events stream
            killed = await kill_broker(infra, run, timeline)
            if LONG:
                await asyncio.sleep(FEED_S / 4)
                await restart_broker(infra, killed, timeline)
                await asyncio.sleep(FEED_S / 8)
                others = [n.node_id for n in infra.cluster.nodes if n.node_id != killed]
                timeline.append(f"then kill -9 of broker {others[0]}")
                assert process.kill(infra.cluster.node(others[0]).pid_file)
        await feeding
        await run.quiesce(QUIESCE_S)
        stalled = await run.lagging()
        outcome = Outcome.of(await run.read_published(), run.topics)
    finally:
        await run.close()
        for node in infra.cluster.nodes:  # whole again for the next test
            await asyncio.to_thread(infra.cluster.start_node, node)
    sent = f"{len(run.sent)} events sent, {run.send_retries} re-sent"
    print(f"\n== broker loss ({SIZE.name}, seed {SEED}) {run.suffix}: {timeline}, {sent}, "
          f"{dict(outcome.counts)}")  # fmt: skip
    return outcome, stalled


async def test_a_broker_killed_while_events_stream_loses_nothing(
    infra: ClusterInfra, workload: Workload, tmp_path: Path
) -> None:
    baseline, _ = await one_run(infra, workload, tmp_path / "baseline", faulted=False)
    assert baseline.counts["eligibility decisions"] >= PATIENTS  # the baseline did its work
    outcome, stalled = await one_run(infra, workload, tmp_path / "faulted", faulted=True)
    problems = [
        *same_decisions(baseline, outcome),
        *same_plans(baseline, outcome),
        *every_cause_noticed(outcome),
        *one_notice_per_cause(outcome),
        *(f"stalled: {where}" for where in stalled),
        *(f"dead letter of a valid event: {r.headers}" for r in outcome.dead_letters),
    ]
    assert not problems, "\n".join(problems[:40])
