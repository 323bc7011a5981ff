"""`courseflow stack up|down|status`: the local Kafka broker(s) and PostgreSQL together, and
Prometheus with `--monitoring`."""

from services.stack import process
from services.stack.cluster import KafkaCluster, nodes_on_disk
from services.stack.kafka import KafkaStack
from services.stack.paths import local_dir
from services.stack.postgres import PostgresStack
from services.stack.prometheus import PrometheusStack


def up(brokers: int = 1, *, monitoring: bool = False) -> list[str]:
    """One broker (the default), or a cluster of `brokers` KRaft nodes; then PostgreSQL;
    then, with `monitoring`, Prometheus scraping the services."""
    if brokers < 1:
        raise RuntimeError("--brokers must be at least 1")
    cluster, single = _cluster(), KafkaStack.from_env()
    if brokers == 1:
        if cluster is not None and cluster.running():
            raise RuntimeError(
                f"a cluster of {len(cluster.nodes)} KRaft nodes is running; "
                "`courseflow stack down` first"
            )
        kafka = single.up()
    else:
        if process.read_pid(single.pid_file) is not None:
            raise RuntimeError("the single broker is running; `courseflow stack down` first")
        if cluster is not None and cluster.running() and len(cluster.nodes) != brokers:
            raise RuntimeError(
                f"a cluster of {len(cluster.nodes)} nodes is running; `courseflow stack down` first"
            )
        kafka = KafkaCluster.from_env(brokers).up()
    lines = [kafka, PostgresStack.from_env().up()]
    if monitoring:
        lines.append(PrometheusStack.from_env().up())
    return lines


def down() -> list[str]:
    """Stop the services started by `make run`, Prometheus, then the broker(s) and the
    database."""
    pid_files = sorted((local_dir() / "run").glob("*.pid"))
    lines = [f"{p.stem} stopped" for p in pid_files if process.stop(p)]
    prometheus = PrometheusStack.from_env().down()
    if prometheus is not None:
        lines.append(prometheus)
    cluster = _cluster()
    if cluster is not None and cluster.running():
        lines.append(cluster.down())
    lines += [KafkaStack.from_env().down(), PostgresStack.from_env().down()]
    return lines


def status() -> list[str]:
    cluster = _cluster()
    if cluster is not None and cluster.running():
        lines = cluster.status()
    else:
        lines = [KafkaStack.from_env().status()]
    lines.append(PostgresStack.from_env().status())
    lines.append(PrometheusStack.from_env().status())
    for pid_file in sorted((local_dir() / "run").glob("*.pid")):
        pid = process.read_pid(pid_file)
        lines.append(f"{pid_file.stem}: " + (f"pid {pid}" if pid else "not running"))
    return lines


def _cluster() -> KafkaCluster | None:
    """The local multi-node cluster made by an earlier `up --brokers N`, if there is one."""
    nodes = nodes_on_disk(local_dir() / "kafka")
    return KafkaCluster.from_env(nodes) if nodes > 1 else None
