"""A dynamic KRaft quorum (KIP-853) across real `brook` processes: one controller formatted
`--standalone` starts it, others join as observers and are added with `brook metadata-quorum
add-controller` (AddRaftVoter), a voter is removed with `remove-controller` (RemoveRaftVoter)
after kill -9, and the quorum keeps its metadata and serves a real client (confluent-kafka)
throughout. Refusals: adding a voter twice, changing a static quorum's voters."""
import re
import tempfile
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from cli_support import brook, failed_with, succeeded
from conftest import BrokerProcess, wait_until
from quorum_support import Quorum, free_ports, quorum_factory, random_cluster_id  # noqa: F401  (fixture)

VOTERS = re.compile(r"^CurrentVoters:\s+\[([\d,]*)\]$", re.M)
OBSERVERS = re.compile(r"^CurrentObservers:\s+\[([\d,]*)\]$", re.M)
LEADER = re.compile(r"^LeaderId:\s+(-?\d+)$", re.M)


class DynamicQuorum(Quorum):
    """Nodes 1..n (controller and broker each) finding the quorum through
    controller.quorum.bootstrap.servers; node 1 is formatted --standalone, the others join."""

    def __init__(self, count: int):
        self.ports = free_ports(count)
        self.bootstrap_servers = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        self.directories = [tempfile.TemporaryDirectory(prefix="brook-dynamic-") for _ in self.ports]
        self.cluster_id = random_cluster_id()
        self.nodes: dict[int, BrokerProcess] = {}
        for index, port in enumerate(self.ports):
            node_id = index + 1
            overrides = self.node_config(node_id)
            succeeded(brook("storage", "format", *self.override_args(node_id), "--cluster-id", self.cluster_id,
                            *(["--standalone"] if node_id == 1 else [])))
            node = BrokerProcess(Path(self.directories[index].name), overrides)
            node.port = port
            self.nodes[node_id] = node

    def node_config(self, node_id: int) -> list[str]:
        return [f"node.id={node_id}", f"controller.quorum.bootstrap.servers={self.bootstrap_servers}",
                "broker.heartbeat.interval.ms=200"]

    def override_args(self, node_id: int) -> list[str]:
        """The node's configuration as `--override` flags, as brook storage and metadata-quorum take it."""
        keys = [f"log.dirs={self.directories[node_id - 1].name}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.ports[node_id - 1]}", *self.node_config(node_id)]
        return [flag for key in keys for flag in ("--override", key)]

    def status_text(self, *node_ids: int) -> str | None:
        servers = ",".join(f"127.0.0.1:{self.nodes[n].port}" for n in (node_ids or self.nodes))
        result = brook("metadata-quorum", "describe", "--bootstrap-server", servers, "--status", "--timeout-ms", "5000",
                       timeout=30)
        return result.stdout if result.returncode == 0 else None

    def voters(self, *node_ids: int) -> set[int] | None:
        text = self.status_text(*node_ids)
        match = text and VOTERS.search(text)
        return {int(v) for v in match.group(1).split(",") if v} if match else None

    def leader(self, *node_ids: int) -> int | None:
        text = self.status_text(*node_ids)
        match = text and LEADER.search(text)
        return int(match.group(1)) if match and int(match.group(1)) >= 0 else None

    def add_controller(self, node_id: int, via: int):
        return brook("metadata-quorum", "add-controller", "--bootstrap-server", f"127.0.0.1:{self.ports[via - 1]}",
                     *self.override_args(node_id), timeout=60)



@pytest.fixture
def dynamic_quorum():
    quorums: list[DynamicQuorum] = []

    def make(count: int) -> DynamicQuorum:
        quorum = DynamicQuorum(count)
        quorums.append(quorum)
        return quorum

    yield make
    for quorum in quorums:
        quorum.close()


def topics_on(port: int) -> set[str]:
    return set(AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"}).list_topics(timeout=10).topics)


def create_topic(port: int, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    admin.create_topics([NewTopic(name, 2, 1)], operation_timeout=10)[name].result(30)


def test_controllers_join_a_standalone_quorum_and_one_is_removed_after_kill_9(dynamic_quorum):
    quorum = dynamic_quorum(3)
    for node in quorum.nodes.values():
        node.start()
    wait_until(lambda: quorum.leader(1) == 1, message="the standalone controller leading")
    assert quorum.voters(1) == {1}

    # The other two follow as observers until they are added, one at a time.
    wait_until(lambda: (text := quorum.status_text(1)) and {"2", "3"} <= set(OBSERVERS.search(text).group(1).split(",")),
               message="nodes 2 and 3 observing")
    quorum.wait_for_brokers(3)
    create_topic(quorum.ports[0], "before-joining")
    for node_id in (2, 3):
        print(succeeded(quorum.add_controller(node_id, via=node_id)))
    wait_until(lambda: quorum.voters(1) == {1, 2, 3}, message="three voters")

    # Adding a voter twice is refused, naming the cause.
    duplicate = quorum.add_controller(2, via=1)
    assert failed_with(duplicate, "already a voter"), duplicate.stderr

    # The first controller dies; the two added elect a leader between them and keep the metadata.
    quorum.nodes[1].kill()
    new_leader = wait_until(lambda: (leader := quorum.leader(2, 3)) in (2, 3) and leader, timeout=30,
                            message="a leader among the added controllers")
    assert "before-joining" in topics_on(quorum.ports[new_leader - 1])
    create_topic(quorum.ports[new_leader - 1], "after-failover")

    # The dead controller is removed; restarted, it follows the log as an observer.
    print(succeeded(brook("metadata-quorum", "remove-controller", "--bootstrap-server",
                          f"127.0.0.1:{quorum.ports[1]},127.0.0.1:{quorum.ports[2]}", "--controller-id", "1", timeout=60)))
    wait_until(lambda: quorum.voters(2, 3) == {2, 3}, message="voters 2 and 3")
    quorum.nodes[1].start()
    wait_until(lambda: {"before-joining", "after-failover"} <= topics_on(quorum.ports[0]), timeout=30,
               message="the removed controller following the log")
    wait_until(lambda: (text := quorum.status_text(2, 3)) and "1" in OBSERVERS.search(text).group(1).split(","),
               message="node 1 an observer")
    assert quorum.voters(2, 3) == {2, 3}, "the restarted node does not vote"
    leader = quorum.leader(2, 3)
    create_topic(quorum.ports[leader - 1], "last")
    for port in quorum.ports:
        wait_until(lambda: "last" in topics_on(port), message=f"the last topic on 127.0.0.1:{port}")


def test_a_static_quorum_refuses_to_change_its_voters(quorum_factory):
    quorum = quorum_factory(1)
    quorum.wait_for_leader()
    directory = tempfile.TemporaryDirectory(prefix="brook-joiner-")
    try:
        result = brook("metadata-quorum", "add-controller", "--bootstrap-server", quorum.bootstrap(1),
                       "--override", "node.id=7", "--override", "listeners=PLAINTEXT://127.0.0.1:1234",
                       "--override", f"log.dirs={directory.name}", timeout=60)
        assert failed_with(result, "static"), result.stderr
    finally:
        directory.cleanup()


def test_format_refuses_initial_controllers_for_a_static_quorum_or_a_broker(tmp_path):
    cluster = random_cluster_id()
    static = brook("storage", "format", "--override", f"log.dirs={tmp_path / 'a'}", "--override", "node.id=1",
                   "--override", "controller.quorum.voters=1@127.0.0.1:9093",
                   "--override", "listeners=PLAINTEXT://127.0.0.1:9093", "--cluster-id", cluster, "--standalone")
    assert failed_with(static, "controller.quorum.bootstrap.servers"), static.stderr
    broker = brook("storage", "format", "--override", f"log.dirs={tmp_path / 'b'}", "--override", "node.id=2",
                   "--override", "process.roles=broker", "--override", "controller.quorum.bootstrap.servers=127.0.0.1:9093",
                   "--override", "listeners=PLAINTEXT://127.0.0.1:9094", "--cluster-id", cluster, "--standalone")
    assert failed_with(broker, "process.roles"), broker.stderr
    both = brook("storage", "format", "--override", f"log.dirs={tmp_path / 'c'}", "--override", "node.id=3",
                 "--cluster-id", cluster, "--standalone", "--initial-controllers", "3@127.0.0.1:9095:AAAAAAAAAAAAAAAAAAAAAA")
    assert both.returncode != 0 and "at most one" in both.stderr, both.stderr


def test_initial_controllers_form_a_quorum_and_a_voter_that_moves_updates_its_endpoint(dynamic_quorum):
    quorum = dynamic_quorum(0)
    quorum.ports = free_ports(4)
    moved_port = quorum.ports.pop()
    quorum.bootstrap_servers = ",".join(f"127.0.0.1:{port}" for port in quorum.ports)
    quorum.directories = [tempfile.TemporaryDirectory(prefix="brook-dynamic-") for _ in quorum.ports]
    directory_ids = [random_cluster_id() for _ in quorum.ports]
    initial = ",".join(f"{n + 1}@127.0.0.1:{port}:{directory_ids[n]}" for n, port in enumerate(quorum.ports))
    for node_id in (1, 2, 3):
        succeeded(brook("storage", "format", *quorum.override_args(node_id), "--cluster-id", quorum.cluster_id,
                        "--initial-controllers", initial))
        info = succeeded(brook("storage", "info", *quorum.override_args(node_id)))
        assert f"directory.id={directory_ids[node_id - 1]}" in info, info
        node = BrokerProcess(Path(quorum.directories[node_id - 1].name), quorum.node_config(node_id))
        node.port = quorum.ports[node_id - 1]
        quorum.nodes[node_id] = node
        node.start()
    leader = wait_until(lambda: quorum.leader(), message="a leader of the initial controllers")
    assert quorum.voters() == {1, 2, 3}
    quorum.wait_for_brokers(3)
    create_topic(quorum.ports[leader - 1], "first")

    # A voter (not the leader) restarts on another port and has its voter record updated.
    mover = next(n for n in (1, 2, 3) if n != leader)
    quorum.nodes[mover].stop()
    quorum.nodes[mover].port = moved_port
    quorum.nodes[mover].start()
    wait_until(lambda: any(f"{mover}@127.0.0.1:{moved_port}" in line for line in quorum.nodes[leader].output), timeout=30,
               message="the leader recording the moved voter's endpoint")
    # A topic created after the change and seen by the moved voter: the change is committed.
    create_topic(quorum.ports[leader - 1], "after-recording")
    wait_until(lambda: "after-recording" in topics_on(moved_port), timeout=30, message="the moved voter caught up")

    # The leader dies: the moved voter is reached at its new address, and a leader is elected.
    quorum.nodes[leader].kill()
    other = next(n for n in (1, 2, 3) if n not in (leader, mover))
    survivors = f"127.0.0.1:{quorum.ports[other - 1]},127.0.0.1:{moved_port}"
    result = wait_until(
        lambda: (r := brook("metadata-quorum", "describe", "--bootstrap-server", survivors, "--status",
                            "--timeout-ms", "5000", timeout=30)).returncode == 0 and LEADER.search(r.stdout), timeout=30,
        message="a leader among the survivors")
    new_leader = int(result.group(1))
    assert new_leader in (mover, other)
    port = moved_port if new_leader == mover else quorum.ports[other - 1]
    assert "first" in topics_on(port)
    create_topic(port, "after-the-move")
