"""Starting several `brook` processes as one KRaft metadata quorum on 127.0.0.1 (each node its
own port and data directory), and asking it who leads."""
import re
import socket
import tempfile
from pathlib import Path

import pytest

from cli_support import brook, succeeded
from conftest import BrokerProcess, wait_until

LEADER = re.compile(r"^LeaderId:\s+(-?\d+)$", re.M)
EPOCH = re.compile(r"^LeaderEpoch:\s+(\d+)$", re.M)


def free_ports(count: int) -> list[int]:
    """Ports free now (bound to 0 and released): a quorum's voters must be named before start."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def random_cluster_id() -> str:
    return succeeded(brook("storage", "random-uuid")).strip()


def format_storage(directory: str, node_id: int, cluster_id: str) -> None:
    """`brook storage format` for a node's log directory, as an operator does before a cluster's first start."""
    succeeded(brook("storage", "format", "--override", f"log.dirs={directory}", "--override", f"node.id={node_id}",
                    "--cluster-id", cluster_id))


class Quorum:
    """Nodes 1..n, every one a voter of `controller.quorum.voters`."""

    def __init__(self, count: int, extra: dict[int, list[str]] | None = None, brokers: int = 0):
        self.ports = free_ports(count + brokers)
        self.voters = ",".join(f"{i + 1}@127.0.0.1:{port}" for i, port in enumerate(self.ports[:count]))
        self.directories = [tempfile.TemporaryDirectory(prefix="brook-quorum-") for _ in self.ports]
        self.nodes: dict[int, BrokerProcess] = {}
        self.cluster_id = random_cluster_id()
        for index, port in enumerate(self.ports):
            node_id = index + 1
            roles = ["process.roles=broker"] if index >= count else []
            # Brokers register within a fraction of a second (Kafka's default beat is 2 s).
            overrides = [f"node.id={node_id}", f"controller.quorum.voters={self.voters}", *roles,
                         "broker.heartbeat.interval.ms=200",
                         *((extra or {}).get(node_id, []))]
            node = BrokerProcess(Path(self.directories[index].name), overrides)
            node.port = port
            self.nodes[node_id] = node
            # A quorum's nodes are formatted for one cluster before their first start.
            cluster_id = next((o.split("=", 1)[1] for o in overrides if o.startswith("cluster.id=")), self.cluster_id)
            format_storage(self.directories[index].name, node_id, cluster_id)

    def start(self) -> "Quorum":
        for node in self.nodes.values():
            node.start()
        return self

    def bootstrap(self, *node_ids: int) -> str:
        ids = node_ids or tuple(self.nodes)
        return ",".join(f"127.0.0.1:{self.nodes[i].port}" for i in ids)

    def status(self, *node_ids: int) -> tuple[int, int] | None:
        """(leader, epoch) as `brook metadata-quorum describe --status` prints them, or None."""
        result = brook("metadata-quorum", "describe", "--bootstrap-server", self.bootstrap(*node_ids), "--status",
                       "--timeout-ms", "5000", timeout=30)
        if result.returncode != 0:
            return None
        leader, epoch = LEADER.search(result.stdout), EPOCH.search(result.stdout)
        return (int(leader.group(1)), int(epoch.group(1))) if leader and epoch else None

    def wait_for_leader(self, *node_ids: int, newer_than: int = 0, timeout: float = 30) -> tuple[int, int]:
        return wait_until(
            lambda: (s := self.status(*node_ids)) and s[1] > newer_than and s,
            timeout=timeout, interval=0.1, message="a quorum leader",
        )

    def wait_for_brokers(self, count: int, *node_ids: int, timeout: float = 30) -> set[int]:
        """Waits until Metadata (asked of `node_ids`) lists `count` unfenced brokers."""
        from confluent_kafka.admin import AdminClient

        def brokers():
            try:
                found = set(AdminClient({"bootstrap.servers": self.bootstrap(*node_ids)}).list_topics(timeout=10).brokers)
            except Exception:  # noqa: BLE001  (librdkafka's "partial response" while no broker is unfenced yet)
                return False
            return len(found) == count and found
        return wait_until(brokers, timeout=timeout, interval=0.1, message=f"{count} registered brokers")

    def close(self) -> None:
        for node in self.nodes.values():
            if node.is_running():
                node.stop()
        for directory in self.directories:
            directory.cleanup()


@pytest.fixture
def quorum_factory():
    quorums: list[Quorum] = []

    def make(count: int, extra: dict[int, list[str]] | None = None, brokers: int = 0, start: bool = True) -> Quorum:
        quorum = Quorum(count, extra, brokers)
        quorums.append(quorum)
        return quorum.start() if start else quorum

    yield make
    for quorum in quorums:
        quorum.close()
