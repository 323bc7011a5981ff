"""`courseflow stack up --brokers 3`: three KRaft nodes, each a voter of one quorum."""

from pathlib import Path

from services.stack.cluster import KafkaCluster, node_ports
from services.stack.kafka import KafkaStack


def properties(node: KafkaStack) -> dict[str, str]:
    lines = [line.partition("=") for line in node.server_properties().splitlines() if line]
    return {name: value for name, _, value in lines}


def test_nodes_are_two_ports_apart() -> None:
    assert [node_ports(59092, 59093, n) for n in (1, 2, 3)] == [
        (59092, 59093), (59094, 59095), (59096, 59097),
    ]  # fmt: skip


def test_every_node_is_a_voter_of_the_same_three_voter_quorum(tmp_path: Path) -> None:
    cluster = KafkaCluster.local(tmp_path, 3, port=20000, controller_port=20001)
    assert cluster.bootstrap_servers == "127.0.0.1:20000,127.0.0.1:20002,127.0.0.1:20004"
    voters = "1@127.0.0.1:20001,2@127.0.0.1:20003,3@127.0.0.1:20005"
    for number, node in enumerate(cluster.nodes, start=1):
        props = properties(node)
        assert props["node.id"] == str(number)
        assert props["process.roles"] == "broker,controller"
        assert props["controller.quorum.voters"] == voters
        assert props["log.dirs"] == str(tmp_path / f"node-{number}" / "data")
        assert props["offsets.topic.replication.factor"] == "3"
        assert props["transaction.state.log.replication.factor"] == "3"
        assert props["min.insync.replicas"] == "2"
    assert len({node.cluster for node in cluster.nodes}) == 1


def test_a_single_broker_keeps_replication_one(tmp_path: Path) -> None:
    props = properties(KafkaStack(home=tmp_path, port=20000, controller_port=20001))
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:20001"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
