"""A real Apache Kafka 4.x broker (KRaft, broker+controller nodes) from Maven Central jars.

One node by default; `KafkaCluster` runs several from the same jars, each a voter of one
controller quorum (services/stack/cluster.py).
"""

import asyncio
import base64
import logging
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services.stack import process
from services.stack.paths import local_dir

KAFKA_VERSION_RANGE = "[4.0.0,5.0.0)"
STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.courseflow</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{slf4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""


@dataclass(frozen=True, slots=True)
class KafkaStack:
    home: Path
    port: int = 59092
    controller_port: int = 59093
    partitions: int = 6
    heap: str = "512m"
    tls: "BrokerTls | None" = None
    node_id: int = 1
    # Every voter of the controller quorum as (node id, controller port); empty: this node only.
    voters: tuple[tuple[int, int], ...] = ()
    # Of the internal topics (consumer offsets, transactions): the cluster's size, up to 3.
    internal_replication: int = 1
    cluster: str | None = None  # the cluster id every node is formatted with

    @classmethod
    def from_env(cls) -> "KafkaStack":
        return cls(
            home=local_dir() / "kafka",
            port=int(os.environ.get("COURSEFLOW_KAFKA_PORT", "59092")),
            controller_port=int(os.environ.get("COURSEFLOW_KAFKA_CONTROLLER_PORT", "59093")),
        )

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def libs(self) -> Path:
        return self.home / "libs"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    def installed_version(self) -> str | None:
        marker = self.libs / ".complete"
        return marker.read_text().strip() if marker.exists() else None

    def ensure_jars(self) -> tuple[str, bool]:
        """Return (kafka version, downloaded?); a cached install makes no network call."""
        cached = self.installed_version()
        if cached:
            return cached, False
        if shutil.which("mvn") is None:
            raise RuntimeError("mvn (Apache Maven) is needed once to fetch the Kafka jars")
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.libs, ignore_errors=True)
        pom = self.home / "pom.xml"
        pom.write_text(
            _POM.format(kafka=KAFKA_VERSION_RANGE, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION)
        )
        print(f"fetching Apache Kafka {KAFKA_VERSION_RANGE} jars from Maven Central (once)…",
              flush=True)  # fmt: skip
        log = self.home / "mvn.log"
        command = [
            "mvn", "-B", "-Dstyle.color=never", "-f", str(pom), "dependency:copy-dependencies",
            f"-DoutputDirectory={self.libs}", "-DincludeScope=runtime",
        ]  # fmt: skip
        # Offline first (Maven's local repository usually has them); then the network, a few
        # times: one failed download must not fail a whole test run.
        with log.open("wb") as out:
            for attempt, pause_s in enumerate((0, 0, 5, 15)):
                time.sleep(pause_s)
                offline = ["-o"] if attempt == 0 else []
                fetched = subprocess.run(
                    [*command, *offline], check=False, stdout=out, stderr=subprocess.STDOUT
                )
                if fetched.returncode == 0:
                    break
        if fetched.returncode != 0:
            raise RuntimeError(f"mvn could not fetch the Kafka jars; see {log}")
        version = _kafka_version(self.libs)
        (self.libs / ".complete").write_text(f"{version}\n")
        return version, True

    def server_properties(self) -> str:
        ctl = f"127.0.0.1:{self.controller_port}"
        secure = f",SASL_SSL://127.0.0.1:{self.tls.port}" if self.tls else ""
        voters = self.voters or ((self.node_id, self.controller_port),)
        in_sync = max(self.internal_replication - 1, 1)
        return "\n".join(
            [
                "process.roles=broker,controller",
                f"node.id={self.node_id}",
                "controller.quorum.voters="
                + ",".join(f"{node}@127.0.0.1:{port}" for node, port in voters),
                f"listeners=PLAINTEXT://{self.bootstrap_servers},CONTROLLER://{ctl}{secure}",
                f"advertised.listeners=PLAINTEXT://{self.bootstrap_servers}{secure}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                + (",SASL_SSL:SASL_SSL" if self.tls else ""),
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={self.home / 'data'}",
                f"num.partitions={self.partitions}",
                f"offsets.topic.replication.factor={self.internal_replication}",
                "offsets.topic.num.partitions=6",
                f"transaction.state.log.replication.factor={self.internal_replication}",
                f"transaction.state.log.min.isr={in_sync}",
                f"default.replication.factor={self.internal_replication}",
                f"min.insync.replicas={in_sync}",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                *(self.tls.properties() if self.tls else ()),
                "",
            ]
        )

    def _java(self, *args: str) -> list[str]:
        return [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.yaml'}",
            "-cp",
            f"{self.libs}/*",
            *args,
        ]

    def _format_storage(self, config: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = self.cluster or new_cluster_id()
        scram = [
            f"--add-scram=SCRAM-SHA-512=[name={user},password={password}]"
            for user, password in (self.tls.scram_users if self.tls else ())
        ]
        subprocess.run(
            self._java("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                       *scram, "-c", str(config)),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def up(self, timeout_s: float = 90.0) -> str:
        version, downloaded = self.ensure_jars()
        ours = process.read_pid(self.pid_file) is not None
        if self.answers():
            if ours:
                return f"kafka {version} already running on {self.bootstrap_servers}"
            raise RuntimeError(
                f"port {self.port} answers but is not our broker; stop it or set "
                "COURSEFLOW_KAFKA_PORT and COURSEFLOW_KAFKA_CONTROLLER_PORT"
            )
        self.spawn()
        if not process.wait_until(self.answers, timeout_s, interval_s=0.5):
            process.stop(self.pid_file)
            raise RuntimeError(f"kafka did not answer within {timeout_s:.0f}s; see {self.log_file}")
        source = "downloaded from Maven Central" if downloaded else "cached jars"
        return f"kafka {version} ({source}) up on {self.bootstrap_servers}"

    def spawn(self) -> None:
        """Start this node's process (formatting its storage the first time), not waiting."""
        process.stop(self.pid_file)
        config = self.home / "server.properties"
        config.write_text(self.server_properties())
        (self.home / "log4j2.yaml").write_text(_LOG4J2)
        self._format_storage(config)
        process.spawn(
            self._java("kafka.Kafka", str(config)), pid_file=self.pid_file, log_file=self.log_file
        )

    def down(self) -> str:
        stopped = process.stop(self.pid_file, timeout_s=45.0)
        return "kafka stopped" if stopped else "kafka was not running"

    def status(self) -> str:
        pid = process.read_pid(self.pid_file)
        if pid is None:
            return "kafka: not running"
        return f"kafka: pid {pid} on {self.bootstrap_servers}, answering={self.answers()}"

    def answers(self) -> bool:
        return cluster_id(self.bootstrap_servers) is not None


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """An extra SASL_SSL listener with SCRAM-SHA-512 users, as a secured deployment has."""

    port: int
    keystore: Path
    keystore_password: str
    scram_users: tuple[tuple[str, str], ...]
    # ACLs enforced (services/stack/acls.py): a SCRAM user may do only what it is granted;
    # the loopback PLAINTEXT and CONTROLLER listeners (User:ANONYMOUS) stay the broker's own.
    authorizer: bool = False

    def properties(self) -> list[str]:
        acls = [
            f"authorizer.class.name={STANDARD_AUTHORIZER}",
            "super.users=User:ANONYMOUS",
            "allow.everyone.if.no.acl.found=false",
        ]
        return [
            *(acls if self.authorizer else []),
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            (
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "ssl.keystore.type=PKCS12",
            f"ssl.keystore.location={self.keystore}",
            f"ssl.keystore.password={self.keystore_password}",
            f"ssl.key.password={self.keystore_password}",
        ]


def cluster_id(bootstrap_servers: str, timeout_s: float = 5.0) -> str | None:
    """The KRaft cluster id as reported by the admin API, or None when nothing answers."""
    described = describe_cluster(bootstrap_servers, timeout_s)
    return None if described is None else str(described["cluster_id"])


def broker_ids(bootstrap_servers: str, timeout_s: float = 5.0) -> set[int]:
    """The brokers the cluster reports as registered (none when nothing answers)."""
    described = describe_cluster(bootstrap_servers, timeout_s)
    return {int(b["node_id"]) for b in described["brokers"]} if described else set()


def describe_cluster(bootstrap_servers: str, timeout_s: float = 5.0) -> dict[str, Any] | None:
    """The admin API's description of the cluster, or None when nothing answers."""

    async def describe() -> dict[str, Any] | None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
        )
        try:
            await admin.start()
            described: dict[str, Any] = await admin.describe_cluster()
        except (KafkaError, OSError):
            return None
        finally:
            await admin.close()
        return described

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # refusals are expected while polling
    try:
        return asyncio.run(asyncio.wait_for(describe(), timeout_s))
    except TimeoutError:
        return None


def new_cluster_id() -> str:
    while True:  # an id starting with "-" would be read as an option by the storage tool
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


def _kafka_version(libs: Path) -> str:
    jars = sorted(libs.glob("kafka_2.13-*.jar"))
    if not jars:
        raise RuntimeError(f"no kafka_2.13 jar was resolved into {libs}")
    return jars[-1].name.removeprefix("kafka_2.13-").removesuffix(".jar")
