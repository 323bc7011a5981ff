"""Least privilege in Kafka: each service reads its inputs and writes only its own output
topic and the dead letters; operators read the dead letters and replay into the inputs.

The ACLs are for a broker with the StandardAuthorizer (see `BrokerTls.authorizer`); they
are made from a service's settings, so renamed topics keep their rights.
Literal resource names only: a grant names the very topics and group a service uses.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest

from services.runtime.settings import ServiceSettings

INPUTS = {
    "eligibility": ("topic_patient_events",),
    "planner": (
        "topic_patient_events",
        "topic_eligibility",
        "topic_staff_events",
        "topic_planner_commands",
    ),
    "notifier": ("topic_eligibility", "topic_schedule"),
}
OUTPUTS = {
    "eligibility": ("topic_eligibility",),
    "planner": ("topic_schedule", "topic_planner_commands"),
    "notifier": ("topic_notices",),
}
EVERY_TOPIC = ("topic_patient_events", "topic_eligibility", "topic_schedule", "topic_notices",
               "topic_dead_letters", "topic_staff_events", "topic_planner_commands")  # fmt: skip


class Resource(IntEnum):  # the Kafka protocol's codes
    TOPIC = 2
    GROUP = 3


class Operation(IntEnum):
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8


_LITERAL, _ANY_HOST, _ALLOW = 3, "*", 3


@dataclass(frozen=True, slots=True)
class Acl:
    resource: Resource
    name: str
    operation: Operation


def _topics(settings: ServiceSettings, fields: Iterable[str]) -> list[str]:
    return [str(getattr(settings, field)) for field in fields]


def service_acls(service: str, settings: ServiceSettings, group: str) -> list[Acl]:
    """Describe every contract topic (a service checks they exist at start), read its inputs
    in its consumer group, create and write its output and the dead letters, nothing else."""
    outputs = [*_topics(settings, OUTPUTS[service]), settings.topic_dead_letters]
    return [
        *(Acl(Resource.TOPIC, t, Operation.DESCRIBE) for t in _topics(settings, EVERY_TOPIC)),
        *(Acl(Resource.TOPIC, t, Operation.READ) for t in _topics(settings, INPUTS[service])),
        *(Acl(Resource.TOPIC, t, op) for t in outputs
          for op in (Operation.WRITE, Operation.CREATE)),
        Acl(Resource.GROUP, group, Operation.READ),
    ]  # fmt: skip


def operator_acls(settings: ServiceSettings) -> list[Acl]:
    """`courseflow dead-letters list|replay`: read the dead letters, replay into the inputs."""
    inputs = sorted({t for service in INPUTS for t in _topics(settings, INPUTS[service])})
    return [
        *(Acl(Resource.TOPIC, t, Operation.DESCRIBE) for t in _topics(settings, EVERY_TOPIC)),
        Acl(Resource.TOPIC, settings.topic_dead_letters, Operation.READ),
        *(Acl(Resource.TOPIC, t, op) for t in inputs
          for op in (Operation.READ, Operation.WRITE)),
    ]  # fmt: skip


async def grant(
    bootstrap: str, user: str, acls: Iterable[Acl], *, options: Mapping[str, Any] | None = None
) -> None:
    """Allow `user` the `acls` (as a super user of the broker); fails on any refusal."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    await admin.start()
    try:
        for acl in acls:
            # aiokafka has no public CreateAcls call; its protocol class is the one Kafka 4 takes.
            request = CreateAclsRequest(
                acl.resource, acl.name, _LITERAL, f"User:{user}", _ANY_HOST, acl.operation, _ALLOW
            )
            response = await admin._send_request(request)  # noqa: SLF001
            for error_code, message in response.creation_responses:
                if error_code:
                    raise RuntimeError(f"ACL {acl} for {user} refused: {error_code} {message}")
    finally:
        await admin.close()
