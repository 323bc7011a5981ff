"""The faults, injected one at a time at random moments while the clinic stream flows.

Each fault ends when the system is whole again (every service answers /health), so the next
one always hits a running system; the moments themselves are random (pacing sleeps).
"""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.faults.infra import Infra
from tests.faults.run import SERVICES, Run, partitions_of

KILLS = tuple(f"kill -9 {service}" for service in SERVICES)
BROKER = "broker restart"
POSTGRES = "postgres restart"
RESETS = tuple(f"group reset {service}" for service in SERVICES)
EVERY_KIND = (*KILLS, BROKER, POSTGRES, "group reset")


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

    async def whole(self) -> None:
        await asyncio.gather(*(s.ready() for s in self.run.services.values()))

    async def inject(self, kind: str) -> None:
        started = time.monotonic()
        if kind.startswith("kill -9 "):
            service = self.run.services[kind.removeprefix("kill -9 ")]
            await service.kill()
            await service.start()
        elif kind == BROKER:
            await self.infra.restart_kafka()
        elif kind == POSTGRES:
            await self.infra.restart_postgres()
        elif kind.startswith("group reset"):
            name = kind.removeprefix("group reset").strip() or self.rng.choice(SERVICES)
            kind = f"group reset {name}"
            service = self.run.services[name]
            await service.stop()
            seen = await reset_group(self.infra.bootstrap, name, self.run.topics.inputs(name))
            self.timeline.append(f"{kind}: group was {seen} when reset")
            await service.start()
        else:
            raise ValueError(kind)
        await self.whole()
        self.injected[kind] += 1
        self.timeline.append(f"{kind} ({time.monotonic() - started:.1f}s)")

    async def play(self, kinds: list[str], *, within_s: float) -> None:
        """Each fault at a random moment; on average they spread over `within_s`."""
        for kind in kinds:
            await asyncio.sleep(self.rng.uniform(0, 2 * within_s / (len(kinds) + 1)))
            await self.inject(kind)


def plan(rng: random.Random, extra: int) -> list[str]:
    """One fault of each kind, then `extra` drawn at random, in a random order."""
    kinds = list(EVERY_KIND)
    kinds += rng.choices((*KILLS, *KILLS, BROKER, POSTGRES, *RESETS), k=extra)
    rng.shuffle(kinds)
    return kinds
