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
from aiokafka.errors import KafkaError

from tests.faults.infra import Infra
from tests.faults.run import SERVICES, Run, partitions_of

KILLS = tuple(f"kill -9 {service}" for service in SERVICES)
BROKER = "broker restart"
POSTGRES = "postgres restart"
RESETS = tuple(f"group reset {service}" for service in SERVICES)
EVERY_KIND = (*KILLS, BROKER, POSTGRES, "group reset")


async def reset_group(bootstrap: str, group: str, topics: list[str], timeout_s: float = 60) -> None:
    """Commit offset 0 on every input partition of a stopped group (full redelivery)."""
    partitions = partitions_of(topics)
    deadline = time.monotonic() + timeout_s
    while True:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                    enable_auto_commit=False)  # fmt: skip
        try:
            await consumer.start()
            consumer.assign(partitions)
            await consumer.commit(dict.fromkeys(partitions, 0))
        except KafkaError:  # the group may still hold its last member for a moment
            if time.monotonic() > deadline:
                raise
        else:
            return
        finally:
            await consumer.stop()
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
            await reset_group(self.infra.bootstrap, name, self.run.topics.inputs(name))
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
