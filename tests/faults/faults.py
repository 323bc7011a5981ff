"""The faults, injected one at a time at random moments while the clinic stream flows.

Each service runs as several replicas in one consumer group; a fault aimed at a service hits
one replica drawn at random (a group reset needs the whole group stopped). Each fault ends
when the system is whole again: every replica answers /health and every consumer group is
stable with one member per subscriber of every replica, so the next fault always hits a
running system; the moments themselves are random (pacing sleeps).
"""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services import SERVICES
from tests.faults.infra import Infra
from tests.faults.run import Replica, Run, partitions_of

KILLS = tuple(f"kill -9 {service}" for service in SERVICES)
STOPS = tuple(f"stop {service}" for service in SERVICES)
PAUSES = tuple(f"pause {service}" for service in SERVICES)
RESETS = tuple(f"group reset {service}" for service in SERVICES)
BROKER = "broker restart"
POSTGRES = "postgres restart"
POSTGRES_CRASH = "postgres crash"
# One of each; "stop", "pause" and "group reset" without a name hit a service drawn at random.
EVERY_KIND = (*KILLS, "stop", "pause", BROKER, POSTGRES, POSTGRES_CRASH, "group reset")
SETTLE_S = 120.0


async def group_state(bootstrap: str, group: str) -> tuple[str, int]:
    """(state, number of members) of a consumer group, as the broker describes it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    described = responses[0].to_object()["groups"][0]
    return str(described["state"]), len(described["members"])


async def reset_group(bootstrap: str, group: str, topics: list[str], timeout_s: float = 120) -> str:
    """Once the stopped service's group is empty, commit offset 0 on every input partition
    (full redelivery). Returns how the group looked while waiting."""
    partitions = partitions_of(topics)
    deadline = time.monotonic() + timeout_s
    seen = "?"
    while True:
        try:
            state, members = await group_state(bootstrap, group)
            seen = f"{state} with {members} members"
            if members == 0:
                consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                            enable_auto_commit=False)  # fmt: skip
                await consumer.start()
                try:
                    consumer.assign(partitions)
                    await consumer.commit(dict.fromkeys(partitions, 0))
                finally:
                    await consumer.stop()
                return seen
        except KafkaError as exc:
            seen = f"{seen}; {exc!r}"
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} could not be reset in {timeout_s}s: {seen}")
        await asyncio.sleep(0.5)


@dataclass
class Injector:
    infra: Infra
    run: Run
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    timeline: list[str] = field(default_factory=list)

    def members_per_replica(self, service: str) -> int:
        """One consumer (group member) per Decider in each process."""
        return len(self.run.topics.consumers(service))

    async def groups_settled(self, timeout_s: float = SETTLE_S) -> None:
        """Until every group is Stable with exactly the members of its running replicas (a
        killed replica's member is gone only once its session timed out)."""
        deadline = time.monotonic() + timeout_s
        for service, replicas in self.run.services.items():
            want = self.members_per_replica(service) * sum(p.started for p in replicas)
            seen = "?"
            while True:
                try:
                    state, members = await group_state(self.infra.bootstrap, service)
                    if (state, members) == ("Stable", want):
                        break
                    seen = f"{state} with {members} members"
                except KafkaError as exc:
                    seen = repr(exc)
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"group {service} not Stable with {want} members in {timeout_s}s: {seen}"
                    )
                await asyncio.sleep(0.5)

    async def whole(self) -> None:
        await asyncio.gather(*(p.ready() for p in self.run.processes))
        await self.groups_settled()

    def replica(self, service: str) -> Replica:
        return self.rng.choice(self.run.services[service])

    def service(self, named: str) -> str:
        return named or self.rng.choice(SERVICES)

    async def inject(self, kind: str) -> None:
        started = time.monotonic()
        verb, _, named = kind.partition(" ")
        if kind.startswith("kill -9 "):
            replica = self.replica(kind.removeprefix("kill -9 "))
            kind = f"kill -9 {replica.label}"
            await replica.kill()
            await replica.start()
        elif verb == "stop":
            replica = self.replica(self.service(named))
            kind = f"stop {replica.label}"
            await replica.stop()
            await replica.start()
        elif verb == "pause":
            replica = self.replica(self.service(named))
            kind = f"pause {replica.label}"
            self.timeline.append(f"{kind}: {await self.pause(replica)}")
        elif kind == BROKER:
            await self.infra.restart_kafka()
        elif kind == POSTGRES:
            await self.infra.restart_postgres()
        elif kind == POSTGRES_CRASH:
            await self.infra.crash_postgres()
        elif kind.startswith("group reset"):
            name = self.service(kind.removeprefix("group reset").strip())
            kind = f"group reset {name}"
            replicas = self.run.services[name]
            await asyncio.gather(*(p.stop() for p in replicas))
            seen = await reset_group(self.infra.bootstrap, name, self.run.topics.inputs(name))
            self.timeline.append(f"{kind}: group was {seen} when reset")
            await asyncio.gather(*(p.start() for p in replicas))
        else:
            raise ValueError(kind)
        await self.whole()
        self.injected[kind.split("#")[0]] += 1
        self.timeline.append(f"{kind} ({time.monotonic() - started:.1f}s)")

    async def pause(self, replica: Replica, timeout_s: float = 90) -> str:
        """SIGSTOP until the broker has dropped the replica's members from its group (its
        session timed out: the other replica took its partitions, maybe mid-batch), then
        SIGCONT: it finds itself fenced, its uncommitted batch redelivered elsewhere."""
        service = replica.name
        want = self.members_per_replica(service) * (len(self.run.services[service]) - 1)
        replica.pause()
        paused = time.monotonic()
        try:
            while True:
                seen = "?"
                try:
                    state, members = await group_state(self.infra.bootstrap, service)
                    seen = f"{state} with {members} members"
                    if members <= want:
                        break
                except KafkaError as exc:
                    seen = repr(exc)
                if time.monotonic() - paused > timeout_s:
                    raise AssertionError(f"{replica.label} paused {timeout_s}s, group {seen}")
                await asyncio.sleep(0.5)
        finally:
            replica.resume()
        return f"dropped from its group after {time.monotonic() - paused:.1f}s ({seen})"

    async def play(self, kinds: list[str], *, within_s: float) -> None:
        """Each fault at a random moment; on average they spread over `within_s`."""
        for kind in kinds:
            await asyncio.sleep(self.rng.uniform(0, 2 * within_s / (len(kinds) + 1)))
            await self.inject(kind)


def plan(rng: random.Random, extra: int) -> list[str]:
    """One fault of each kind, then `extra` drawn at random, in a random order."""
    kinds = list(EVERY_KIND)
    kinds += rng.choices(
        (*KILLS, *KILLS, *STOPS, *PAUSES, BROKER, POSTGRES, POSTGRES_CRASH, *RESETS), k=extra
    )
    rng.shuffle(kinds)
    return kinds
