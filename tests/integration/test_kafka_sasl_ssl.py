"""SASL_SSL with SCRAM-SHA-512 is a supported way to reach Kafka: a second local broker with
a TLS certificate and SCRAM users made by this test, and a service that only speaks to it."""

import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from services.eligibility.app import build_runtime
from services.eligibility.settings import EligibilitySettings
from services.runtime.kafka_security import client_options
from services.runtime.launcher import courseflow_command, free_port
from services.runtime.settings import ServiceSettings
from services.runtime.topics import ensure_topics
from services.stack.acls import EVERY_TOPIC, Acl, grant, operator_acls, service_acls
from services.stack.kafka import BrokerTls, KafkaStack
from tests.clinic_events import ClinicFeed, wire
from tests.integration.kafka_io import produce, read_until
from tests.integration.test_operations import letter_headers, output_of

USERS = ("eligibility", "planner", "notifier", "operator")


@dataclass(frozen=True)
class SecuredBroker:
    plaintext: str
    sasl_ssl: str
    cafile: Path
    passwords: dict[str, str]  # SCRAM user → password
    user: str = "eligibility"

    @property
    def password(self) -> str:
        return self.passwords[self.user]


def make_certificate(folder: Path, password: str) -> tuple[Path, Path]:
    keystore, cafile = folder / "broker.p12", folder / "ca.pem"
    keytool = ["keytool", "-noprompt", "-keystore", str(keystore), "-storepass", password]
    subprocess.run(
        [*keytool, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
         "-validity", "2", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
         "-ext", "BC:c=ca:true", "-storetype", "PKCS12", "-keypass", password],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [*keytool, "-exportcert", "-rfc", "-alias", "broker", "-file", str(cafile)],
        check=True, capture_output=True,
    )  # fmt: skip
    return keystore, cafile


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    folder = tmp_path_factory.mktemp("secured-kafka")
    store_password = secrets.token_hex(12)
    passwords = {user: secrets.token_hex(12) for user in USERS}
    keystore, cafile = make_certificate(folder, store_password)
    tls_port = free_port()
    tls = BrokerTls(tls_port, keystore, store_password, tuple(passwords.items()), authorizer=True)
    broker = KafkaStack(
        home=folder / "kafka", port=free_port(), controller_port=free_port(), tls=tls
    )
    broker.home.mkdir()
    (broker.home / "libs").symlink_to(KafkaStack.from_env().libs)  # the cached jars
    broker.up()
    try:
        yield SecuredBroker(broker.bootstrap_servers, f"127.0.0.1:{tls_port}", cafile, passwords)
    finally:
        broker.down()


def sasl_settings(secured: SecuredBroker, suffix: str, **overrides: Any) -> EligibilitySettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": secured.sasl_ssl, "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": secured.user, "kafka_sasl_password": secured.password,
        "kafka_ssl_cafile": secured.cafile, "topic_patient_events": f"clinic-{suffix}",
        "topic_eligibility": f"elig-{suffix}", "topic_partitions": 1,
        "outbox_poll_interval_s": 0.2,
    }  # fmt: skip
    return EligibilitySettings(**{**values, **overrides})


async def allowed(
    secured: SecuredBroker, user: str, settings: ServiceSettings, acls: list[Acl]
) -> None:
    """The topics made by an operator (on the broker's own listener), then the user's ACLs."""
    topics = [getattr(settings, field) for field in EVERY_TOPIC]
    await ensure_topics(secured.plaintext, topics, partitions=1)
    await grant(secured.plaintext, user, acls)


async def test_a_service_runs_over_sasl_ssl_with_scram(secured: SecuredBroker, suffix: str) -> None:
    settings = sasl_settings(secured, suffix)
    await allowed(secured, "eligibility", settings,
                  service_acls("eligibility", settings, group=f"elig_{suffix}"))  # fmt: skip
    runtime, _ = build_runtime(settings, name=f"elig_{suffix}")
    await runtime.start()  # topics, consumer, outbox producer: all over SASL_SSL
    try:
        feed = ClinicFeed()
        key, value = wire(feed.enrolled(datetime.now(UTC).date()))
        await produce(secured.plaintext, f"clinic-{suffix}", value, key=key)
        decisions = await read_until(secured.plaintext, f"elig-{suffix}", lambda rs: len(rs) >= 1)
        assert decisions[0].key == key
        assert await runtime.healthy()
    finally:
        await runtime.stop()


async def start_producer(options: dict[str, Any], bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **options)
    try:
        await producer.start()
    finally:
        await producer.stop()


async def test_a_wrong_scram_password_is_refused(secured: SecuredBroker, suffix: str) -> None:
    settings = sasl_settings(secured, suffix, kafka_sasl_password="not-the-password")
    with pytest.raises((KafkaError, OSError)):
        await start_producer(client_options(settings), secured.sasl_ssl)


async def test_an_untrusted_certificate_is_refused(secured: SecuredBroker, suffix: str) -> None:
    settings = sasl_settings(secured, suffix, kafka_ssl_cafile=None)  # system CAs only
    with pytest.raises((KafkaError, OSError)):
        await start_producer(client_options(settings), secured.sasl_ssl)


async def test_the_right_credentials_are_accepted(secured: SecuredBroker, suffix: str) -> None:
    await start_producer(client_options(sasl_settings(secured, suffix)), secured.sasl_ssl)


def test_sasl_ssl_without_credentials_is_a_clear_settings_error() -> None:
    with pytest.raises(ValueError, match="SASL_SSL needs"):
        EligibilitySettings(kafka_security_protocol="SASL_SSL")


def sasl_env(secured: SecuredBroker, **extra: str) -> dict[str, str]:
    """The settings a service (or the CLI) reads to reach the broker over SASL_SSL only."""
    return {
        "COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS": secured.sasl_ssl,
        "COURSEFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "COURSEFLOW_KAFKA_SASL_USERNAME": secured.user,
        "COURSEFLOW_KAFKA_SASL_PASSWORD": secured.password,
        "COURSEFLOW_KAFKA_SSL_CAFILE": str(secured.cafile),
        **extra,
    }


async def test_dead_letters_are_listed_and_replayed_over_sasl_ssl(
    secured: SecuredBroker, suffix: str
) -> None:
    source, dead = f"clinic-{suffix}", f"dead-{suffix}"
    await ensure_topics(secured.plaintext, [source, dead], partitions=1)
    await produce(secured.plaintext, dead, b"original", key=b"P-1",
                  headers=letter_headers(source, "eligibility", 4))  # fmt: skip
    operator = ServiceSettings(topic_patient_events=source, topic_dead_letters=dead)
    await allowed(secured, "operator", operator, operator_acls(operator))
    env = sasl_env(
        secured, COURSEFLOW_TOPIC_DEAD_LETTERS=dead, COURSEFLOW_KAFKA_SASL_USERNAME="operator",
        COURSEFLOW_KAFKA_SASL_PASSWORD=secured.passwords["operator"],
    )  # fmt: skip

    listed = await output_of(courseflow_command("dead-letters", "list"), env)
    replayed = await output_of(courseflow_command("dead-letters", "replay", "0:0"), env)

    assert "1 dead letters" in listed
    assert f"from {source}/0@4: unknown patient" in listed
    assert "replayed 1 dead letters" in replayed
    copies = await read_until(secured.plaintext, source, lambda rs: len(rs) >= 1, timeout_s=10)
    assert [bytes(r.value) for r in copies] == [b"original"]


def suffixed(suffix: str) -> ServiceSettings:
    return ServiceSettings(
        topic_patient_events=f"clinic-{suffix}", topic_eligibility=f"elig-{suffix}",
        topic_schedule=f"sched-{suffix}", topic_notices=f"notices-{suffix}",
        topic_dead_letters=f"dead-{suffix}",
    )  # fmt: skip


async def writes(secured: SecuredBroker, user: str, topic: str) -> bool:
    """Whether the broker accepts a record from `user` on `topic` (False: not authorized)."""
    settings = sasl_settings(secured, "-", kafka_sasl_username=user,
                             kafka_sasl_password=secured.passwords[user])  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=secured.sasl_ssl, request_timeout_ms=10000,
                                acks="all", **client_options(settings))  # fmt: skip
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"P-1")
    except TopicAuthorizationFailedError:
        return False
    finally:
        await producer.stop()
    return True


async def test_a_service_user_writes_only_its_own_topics(
    secured: SecuredBroker, suffix: str
) -> None:
    settings = suffixed(suffix)
    for service in ("eligibility", "planner", "notifier"):
        acls = service_acls(service, settings, group=service)
        await allowed(secured, service, settings, acls)

    written = {
        (user, topic.split("-")[0]): await writes(secured, user, topic)
        for user in ("eligibility", "planner")
        for topic in (settings.topic_eligibility, settings.topic_schedule,
                      settings.topic_patient_events, settings.topic_dead_letters)
    }  # fmt: skip

    assert written == {
        ("eligibility", "elig"): True, ("eligibility", "sched"): False,
        ("eligibility", "clinic"): False, ("eligibility", "dead"): True,
        ("planner", "elig"): False, ("planner", "sched"): True,
        ("planner", "clinic"): False, ("planner", "dead"): True,
    }  # fmt: skip
