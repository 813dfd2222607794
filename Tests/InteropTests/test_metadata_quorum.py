"""The KRaft metadata quorum across real `brook` processes: election, replication of the
metadata log, failover after kill -9 and SIGSTOP, a majority lost and regained, snapshots loaded
at restart, formatted storage, and the refusals of a node from another cluster, with a broken
configuration or a damaged snapshot. Clients are real
(confluent-kafka's AdminClient); the quorum is read with `brook metadata-quorum`."""
import os
import signal
import struct
import subprocess
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire
from cli_support import brook, failed_with, succeeded
from conftest import brook_binary, wait_until
from quorum_support import format_storage, quorum_factory, random_cluster_id  # noqa: F401  (fixture)


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10)[name].result(30)


def topics_on(bootstrap: str) -> set[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return set(admin.list_topics(timeout=10).topics)


TOPIC_ALREADY_EXISTS = 36


def raw_create_topic_error(bootstrap: str, name: str) -> int:
    """CreateTopics v0 sent to exactly this broker, bypassing a client's routing; its error code."""
    encoded = name.encode()
    body = (struct.pack(">i", 1) + struct.pack(">h", len(encoded)) + encoded + struct.pack(">ihii", 1, 1, 0, 0)
            + struct.pack(">i", 10_000))
    with kafka_wire.connect(bootstrap) as sock:
        sock.sendall(kafka_wire.request_frame(19, 0, 7, body))
        response = kafka_wire.read_frame(sock)
    # correlation id, topic count, topic name, error code
    length = struct.unpack(">h", response[8:10])[0]
    return struct.unpack(">h", response[10 + length:12 + length])[0]


def test_three_voters_elect_one_leader_and_replicate_what_it_commits(quorum_factory):
    quorum = quorum_factory(3)
    leader, epoch = quorum.wait_for_leader()
    assert leader in (1, 2, 3) and epoch >= 1
    quorum.wait_for_brokers(3)

    create_topic(quorum.bootstrap(leader), "orders", partitions=3)
    for node in quorum.nodes:
        wait_until(lambda: "orders" in topics_on(quorum.bootstrap(node)), message=f"orders on node {node}")

    # Only the active controller makes changes: a follower sent one forwards it there and hands
    # back the controller's answer; clients read the controller from Metadata.
    follower = next(n for n in quorum.nodes if n != leader)
    assert AdminClient({"bootstrap.servers": quorum.bootstrap(follower)}).list_topics(timeout=10).controller_id == leader
    assert raw_create_topic_error(quorum.bootstrap(follower), "forwarded") == 0
    assert "forwarded" in topics_on(quorum.bootstrap(leader))
    assert raw_create_topic_error(quorum.bootstrap(follower), "forwarded") == TOPIC_ALREADY_EXISTS
    create_topic(quorum.bootstrap(follower), "routed-to-the-controller")

    # Every voter has the whole log: --replication shows them caught up.
    def caught_up():
        result = brook("metadata-quorum", "describe", "--bootstrap-server", quorum.bootstrap(), "--replication")
        rows = [line.split() for line in succeeded(result).splitlines()[1:] if line.strip()]
        return len(rows) == 3 and all(row[2] == "0" for row in rows) and rows
    rows = wait_until(caught_up, message="every voter caught up")
    assert sorted(row[5] for row in rows) == ["Follower", "Follower", "Leader"]

    # A follower alone is enough: it hands DescribeQuorum to the leader, as Kafka's brokers do.
    assert quorum.status(follower)[0] == leader


def test_after_kill_9_of_the_leader_another_leads_with_the_metadata_and_the_old_one_catches_up(quorum_factory):
    quorum = quorum_factory(3)
    leader, epoch = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    create_topic(quorum.bootstrap(leader), "before")

    quorum.nodes[leader].kill()
    survivors = [n for n in quorum.nodes if n != leader]
    new_leader, new_epoch = quorum.wait_for_leader(*survivors, newer_than=epoch)
    assert new_leader in survivors
    assert "before" in topics_on(quorum.bootstrap(new_leader)), "a committed change survives its leader"
    create_topic(quorum.bootstrap(new_leader), "after")

    quorum.nodes[leader].start()
    wait_until(lambda: {"before", "after"} <= topics_on(quorum.bootstrap(leader)), timeout=30,
               message="the restarted node catching up")
    assert quorum.status() == (new_leader, new_epoch), "the restarted node does not disturb the leader"


def test_a_paused_leader_is_replaced_and_steps_down_when_it_resumes(quorum_factory):
    quorum = quorum_factory(3)
    leader, epoch = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    paused = quorum.nodes[leader].process
    os.kill(paused.pid, signal.SIGSTOP)
    try:
        survivors = [n for n in quorum.nodes if n != leader]
        new_leader, _ = quorum.wait_for_leader(*survivors, newer_than=epoch)
        create_topic(quorum.bootstrap(new_leader), "while-paused")
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    wait_until(lambda: "while-paused" in topics_on(quorum.bootstrap(leader)), timeout=30,
               message="the resumed node following the new leader")
    assert quorum.status()[0] == new_leader


def test_five_voters_keep_going_without_a_minority_and_stop_without_a_majority(quorum_factory):
    quorum = quorum_factory(5)
    leader, epoch = quorum.wait_for_leader()
    quorum.wait_for_brokers(5)
    others = [n for n in quorum.nodes if n != leader]
    for node in others[:2]:
        quorum.nodes[node].kill()
    create_topic(quorum.bootstrap(leader), "with-three-of-five")

    quorum.nodes[others[2]].kill()
    # Two of five cannot commit: the change times out or is refused, and nothing is invented.
    live = [leader, others[3]]
    try:
        create_topic(quorum.bootstrap(leader), "with-two-of-five")
        created = True
    except KafkaException:
        created = False
    assert not created

    quorum.nodes[others[2]].start()
    new_leader, _ = quorum.wait_for_leader(leader, others[3], others[2], timeout=40)
    create_topic(quorum.bootstrap(new_leader), "majority-again")
    for node in live:
        wait_until(lambda: {"with-three-of-five", "majority-again"} <= topics_on(quorum.bootstrap(node)),
                   message=f"topics on node {node}")


def test_a_node_of_another_cluster_is_refused(quorum_factory):
    another = random_cluster_id()
    quorum = quorum_factory(3, extra={3: [f"cluster.id={another}"]})
    leader, _ = quorum.wait_for_leader(1, 2)
    assert leader in (1, 2)
    quorum.wait_for_brokers(2, 1, 2)
    create_topic(quorum.bootstrap(leader), "ours")
    wait_until(lambda: any(f"this node belongs to {another}" in line for line in quorum.nodes[3].output),
               message="node 3 refusing the quorum's requests")
    assert "ours" not in topics_on(quorum.bootstrap(3))


def start_failing(tmp_path, *overrides: str) -> str:
    """Runs `brook server` expected to refuse to start; returns what it printed."""
    args = [str(brook_binary()), "server", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
            "--override", f"log.dirs={tmp_path}"]
    for override in overrides:
        args += ["--override", override]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for trace in ("Fatal error", "Stack dump", "Backtrace"):
        assert trace not in output, output
    return output


def test_broken_quorum_configurations_are_refused_naming_the_cause(tmp_path):
    assert "node.id 4 is not among controller.quorum.voters" in start_failing(
        tmp_path / "a", "node.id=4", "controller.quorum.voters=1@127.0.0.1:1,2@127.0.0.1:2")
    assert "names a node id twice" in start_failing(
        tmp_path / "b", "node.id=1", "controller.quorum.voters=1@127.0.0.1:1,1@127.0.0.1:2")
    assert "is not id@host:port" in start_failing(
        tmp_path / "c", "node.id=1", "controller.quorum.voters=1@127.0.0.1")

    directory = tmp_path / "d" / "__cluster_metadata-0"
    directory.mkdir(parents=True)
    (directory / "quorum-state").write_text('{"leaderId":1,"leaderEpoch":-4,"votedId":2}')
    output = start_failing(tmp_path / "d", "node.id=1", "controller.quorum.voters=1@127.0.0.1:1",
                           f"cluster.id={random_cluster_id()}")
    assert "quorum state file" in output and "quorum-state" in output, output


def test_storage_is_formatted_for_one_cluster_and_one_node(tmp_path):
    # A quorum's node refuses to start on unformatted storage, saying how to format it.
    output = start_failing(tmp_path / "raw", "node.id=1", "controller.quorum.voters=1@127.0.0.1:1")
    assert "is not formatted" in output and "brook storage format" in output, output

    cluster = random_cluster_id()
    assert len(cluster) == 22 and cluster != random_cluster_id()
    directory = tmp_path / "formatted"
    format_storage(str(directory), 1, cluster)
    properties = (directory / "meta.properties").read_text()
    assert f"cluster.id={cluster}" in properties and "node.id=1" in properties and "version=1" in properties
    failed_with(brook("storage", "format", "--override", f"log.dirs={directory}", "--override", "node.id=1",
                      "--cluster-id", cluster), "already formatted")
    failed_with(brook("storage", "format", "--override", f"log.dirs={tmp_path / 'other'}", "--cluster-id", "not-a-uuid"),
                "does not appear to be a valid UUID")
    info = succeeded(brook("storage", "info", "--override", f"log.dirs={directory},{tmp_path / 'empty'}"))
    assert f"cluster.id={cluster} node.id=1" in info and "not formatted" in info, info

    # Another node id, or another cluster id, never opens this storage.
    assert "belongs to node 1, not node.id 2" in start_failing(directory, "node.id=2")
    assert f"belongs to cluster {cluster}" in start_failing(directory, "node.id=1", f"cluster.id={random_cluster_id()}")


def snapshots(quorum, node: int) -> list:
    return sorted((Path(quorum.directories[node - 1].name) / "__cluster_metadata-0").glob("*.checkpoint"))


def test_a_restart_loads_the_latest_snapshot_and_a_corrupt_one_stops_it(quorum_factory):
    small = ["metadata.log.max.record.bytes.between.snapshots=2000"]
    quorum = quorum_factory(3, extra={n: small for n in (1, 2, 3)})
    leader, _ = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    names = [f"snap-{i}" for i in range(20)]
    for name in names:
        create_topic(quorum.bootstrap(leader), name, partitions=3)
    for node in quorum.nodes:
        wait_until(lambda: snapshots(quorum, node), message=f"a snapshot on node {node}")

    # A restarted node starts from its snapshot and replays only the log after it.
    follower = next(n for n in quorum.nodes if n != leader)
    quorum.nodes[follower].stop()
    quorum.nodes[follower].start()
    assert any("loaded metadata snapshot" in line for line in quorum.nodes[follower].output), quorum.nodes[follower].output
    wait_until(lambda: set(names) <= topics_on(quorum.bootstrap(follower)), timeout=30, message="topics after the restart")
    create_topic(quorum.bootstrap(leader), "after-restart")
    wait_until(lambda: "after-restart" in topics_on(quorum.bootstrap(follower)), message="a later topic on the node")

    # A damaged snapshot stops the start, naming the file; without it the node replays its log.
    quorum.nodes[follower].stop()
    latest = snapshots(quorum, follower)[-1]
    data = bytearray(latest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    latest.write_bytes(bytes(data))
    with pytest.raises(RuntimeError) as refused:
        quorum.nodes[follower].start()
    assert "is corrupt" in str(refused.value) and latest.name in str(refused.value), refused.value
    latest.rename(latest.with_suffix(".damaged"))
    quorum.nodes[follower].start()
    wait_until(lambda: set(names) | {"after-restart"} <= topics_on(quorum.bootstrap(follower)), timeout=30,
               message="every topic from the log alone")


def log_start_segment(quorum, node: int) -> int:
    """The base offset of the oldest segment of the node's metadata log."""
    directory = Path(quorum.directories[node - 1].name) / "__cluster_metadata-0"
    return min((int(path.stem) for path in directory.glob("*.log")), default=0)


def test_a_node_behind_the_leaders_log_start_fetches_and_installs_its_snapshot(quorum_factory):
    # Every snapshot replaces the log before it (retention 0), in small segments that then go.
    compacting = ["metadata.log.max.record.bytes.between.snapshots=1000", "metadata.max.retention.bytes=0",
                  "metadata.log.segment.bytes=4096"]
    quorum = quorum_factory(3, extra={n: compacting for n in (1, 2, 3)}, brokers=1)
    leader, _ = quorum.wait_for_leader(1, 2, 3)
    quorum.wait_for_brokers(4)
    behind = [n for n in (1, 2, 3) if n != leader][0]
    observer = 4
    quorum.nodes[behind].stop()
    quorum.nodes[observer].stop()

    names = [f"compacted-{i}" for i in range(40)]
    for name in names:
        create_topic(quorum.bootstrap(leader), name, partitions=2)
    others = [n for n in (1, 2, 3) if n not in (behind,)]
    for node in others:
        wait_until(lambda: log_start_segment(quorum, node) > 0, message=f"node {node} dropping its log below a snapshot")

    # The stopped voter and the stopped broker-only observer come back below the leader's log
    # start: each fetches the leader's snapshot, installs it, and follows the log after it.
    for node in (behind, observer):
        quorum.nodes[node].start()
        wait_until(lambda: set(names) <= topics_on(quorum.bootstrap(node)), timeout=30,
                   message=f"node {node} holding every topic from the snapshot")
        assert any("installed the leader's metadata snapshot" in line for line in quorum.nodes[node].output), \
            quorum.nodes[node].output
    create_topic(quorum.bootstrap(leader), "after-install")
    for node in (behind, observer):
        wait_until(lambda: "after-install" in topics_on(quorum.bootstrap(node)), message=f"a later topic on node {node}")

    # A node whose log starts past offset 0 restarts from its snapshot and the log after it.
    current, _ = quorum.wait_for_leader(1, 2, 3)
    quorum.nodes[current].stop()
    quorum.nodes[current].start()
    wait_until(lambda: set(names) | {"after-install"} <= topics_on(quorum.bootstrap(current)), timeout=30,
               message="every topic after a restart of a compacted node")
    new_leader, _ = quorum.wait_for_leader(1, 2, 3)
    create_topic(quorum.bootstrap(new_leader), "after-restart")
    for node in quorum.nodes:
        wait_until(lambda: "after-restart" in topics_on(quorum.bootstrap(node)), message=f"the last topic on node {node}")
