"""Several KRaft nodes from the same jars: `courseflow stack up --brokers 3`.

Each node is broker and controller at once and a voter of one 3-voter quorum, so the
cluster keeps electing a controller and accepting `acks=all` writes with one node gone.
Node n (1-based) listens on COURSEFLOW_KAFKA_PORT + 2(n-1) (controller: the controller
port + 2(n-1)) and keeps its files in `.local/kafka/node-<n>/`; the jars are shared.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from services.stack import process
from services.stack.kafka import KafkaStack, broker_ids, new_cluster_id
from services.stack.paths import local_dir

MAX_INTERNAL_REPLICATION = 3


def node_ports(port: int, controller_port: int, node: int) -> tuple[int, int]:
    """(broker port, controller port) of node `node` (1-based): two ports apart each."""
    return port + 2 * (node - 1), controller_port + 2 * (node - 1)


@dataclass(frozen=True, slots=True)
class KafkaCluster:
    root: Path  # holds the shared jars (`libs/`) and one directory per node
    nodes: tuple[KafkaStack, ...]

    @classmethod
    def local(
        cls, root: Path, brokers: int, *, port: int, controller_port: int, partitions: int = 6
    ) -> "KafkaCluster":
        ports = [node_ports(port, controller_port, n) for n in range(1, brokers + 1)]
        voters = tuple((n, ctl) for n, (_, ctl) in enumerate(ports, start=1))
        cluster = _cluster_id_of(root) or new_cluster_id()
        nodes = tuple(
            KafkaStack(
                home=root / f"node-{n}", port=broker, controller_port=ctl, partitions=partitions,
                heap="384m", node_id=n, voters=voters,
                internal_replication=min(brokers, MAX_INTERNAL_REPLICATION), cluster=cluster,
            )
            for n, (broker, ctl) in enumerate(ports, start=1)
        )  # fmt: skip
        return cls(root, nodes)

    @classmethod
    def from_env(cls, brokers: int) -> "KafkaCluster":
        single = KafkaStack.from_env()
        return cls.local(
            local_dir() / "kafka", brokers, port=single.port, controller_port=single.controller_port
        )

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def node(self, node_id: int) -> KafkaStack:
        (found,) = [n for n in self.nodes if n.node_id == node_id]
        return found

    def running(self) -> list[KafkaStack]:
        return [n for n in self.nodes if process.read_pid(n.pid_file) is not None]

    def complete(self) -> bool:
        """Every node registered as a broker, as the cluster itself reports it."""
        return broker_ids(self.bootstrap_servers) == {n.node_id for n in self.nodes}

    def up(self, timeout_s: float = 180.0) -> str:
        """Start every node at once (a quorum needs a majority before any node answers)."""
        version, downloaded = KafkaStack(home=self.root).ensure_jars()
        if len(self.running()) == len(self.nodes) and self.complete():
            return f"kafka {version} cluster already running on {self.bootstrap_servers}"
        for node in self.nodes:
            if process.read_pid(node.pid_file) is None and node.answers():
                raise RuntimeError(
                    f"port {node.port} answers but is not node {node.node_id} of our cluster; "
                    "stop it or set COURSEFLOW_KAFKA_PORT and COURSEFLOW_KAFKA_CONTROLLER_PORT"
                )
        (self.root / "cluster.id").write_text(f"{self.nodes[0].cluster}\n")
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:  # formats take a JVM each
            list(pool.map(self.start_node, self.nodes))
        if not process.wait_until(self.complete, timeout_s, interval_s=1.0):
            self.down()
            logs = ", ".join(str(n.log_file) for n in self.nodes)
            raise RuntimeError(f"the cluster did not form within {timeout_s:.0f}s; see {logs}")
        source = "downloaded from Maven Central" if downloaded else "cached jars"
        return (
            f"kafka {version} ({source}) cluster of {len(self.nodes)} KRaft nodes up on "
            f"{self.bootstrap_servers} (set COURSEFLOW_KAFKA_BOOTSTRAP_SERVERS to it)"
        )

    def start_node(self, node: KafkaStack) -> None:
        """(Re)start one node, e.g. after it was killed; it rejoins with its own data."""
        if process.read_pid(node.pid_file) is not None:
            return
        node.home.mkdir(parents=True, exist_ok=True)
        if not node.libs.exists():
            node.libs.symlink_to(KafkaStack(home=self.root).libs.resolve())
        node.spawn()

    def down(self) -> str:
        stopped = process.stop_all([n.pid_file for n in self.nodes], timeout_s=45.0)
        if not stopped:
            return "kafka cluster was not running"
        return f"kafka cluster stopped ({len(stopped)} of {len(self.nodes)} nodes were running)"

    def status(self) -> list[str]:
        registered = broker_ids(self.bootstrap_servers)
        lines = []
        for node in self.nodes:
            pid = process.read_pid(node.pid_file)
            state = f"pid {pid}" if pid else "not running"
            lines.append(
                f"kafka node {node.node_id}: {state} on {node.bootstrap_servers}, "
                f"registered={node.node_id in registered}"
            )
        return lines


def _cluster_id_of(root: Path) -> str | None:
    """The id the nodes' storage was formatted with, kept so a restart reuses it."""
    try:
        return (root / "cluster.id").read_text().strip() or None
    except OSError:
        return None


def nodes_on_disk(root: Path) -> int:
    """How many nodes a local cluster under `root` was made with (0: none)."""
    return len(list(root.glob("node-*/server.properties")))
