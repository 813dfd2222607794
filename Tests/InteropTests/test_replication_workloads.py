"""Consumer groups and transactions under replication faults (issue 16): three brokers on
loopback, topics with replication factor 3 and min.insync.replicas 2, and three workloads at
once: the acks=all producer of replication_support, a group member committing after each batch
(with a reader of its committed offsets), and a transactional read-process-write application
turning the producer's records into an output topic, aborting every seventh transaction (see
workload_support). Faults aimed at what those workloads lean on: kill -9 of the group's
coordinator, of the transaction coordinator, SIGSTOP of the transformer's group coordinator
until it is fenced, kill -9 of a partition leader and of the active controller; each healed
before the next.

Checked after healing: no acknowledged record lost, moved or duplicated; committed group
offsets never go backward and end at least at the last accepted commit (for the plain group and
the transactional one); a read_committed reader of the output sees no aborted record and every
input record exactly once; every replica of both topics identical up to the high watermark.
BROOK_EVIDENCE=DIR keeps a failure's worker files and broker logs (replication_support).

A second test sends one transaction marker straight to a partition leader whose followers are
paused (still in the ISR): Kafka appends markers with acks=all, so no success may come back
before a follower has the marker."""
import signal
import socket
import struct
import tempfile

from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire
from conftest import wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)
from replication_support import check_replicas_agree, keep_evidence
from test_cluster_coordinators import java_partition
from workload_support import Workloads

TOPIC = "workloads"
OUTPUT = "workloads-out"
PARTITIONS = 3
COORDINATOR_PARTITIONS = 10
FAST = ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000",
        "replica.fetch.backoff.ms=200", "group.initial.rebalance.delay.ms=0",
        f"offsets.topic.num.partitions={COORDINATOR_PARTITIONS}",
        f"transaction.state.log.num.partitions={COORDINATOR_PARTITIONS}"]
COMMITTING_GROUP = "committer"
TRANSFORM_GROUP = "transformer"


def leaders(bootstrap: str, topic: str) -> dict[int, tuple[int, list[int]]]:
    """Each partition's (leader, isr) as Metadata tells librdkafka; empty when it cannot say."""
    try:
        found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=5).topics.get(topic)
    except Exception:  # noqa: BLE001  (a broker just killed)
        return {}
    if found is None or found.error is not None:
        return {}
    return {p.id: (p.leader, sorted(p.isrs)) for p in found.partitions.values()}


def fully_in_sync(quorum, *topics: str) -> bool:
    for topic in topics:
        state = leaders(quorum.bootstrap(), topic)
        if not state or not all(leader >= 0 and isr == [1, 2, 3] for leader, isr in state.values()):
            return False
    return True


def coordinator(quorum, internal_topic: str, key: str) -> int:
    """The broker leading `key`'s partition of `__consumer_offsets` or `__transaction_state`:
    the coordinator of that group or transactional id."""
    partition = java_partition(key, COORDINATOR_PARTITIONS)
    return wait_until(lambda: (state := leaders(quorum.bootstrap(), internal_topic)) and state[partition][0] > 0
                      and state[partition][0], timeout=30, message=f"a leader of {internal_topic}-{partition}")


def test_group_offsets_and_transactions_survive_coordinator_and_leader_faults(quorum_factory):
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    for topic in (TOPIC, OUTPUT):
        admin.create_topics([NewTopic(topic, PARTITIONS, 3, config={"min.insync.replicas": "2"})])[topic].result(30)
    wait_until(lambda: fully_in_sync(quorum, TOPIC, OUTPUT), timeout=30, message="every replica in sync")

    work = tempfile.TemporaryDirectory(prefix="brook-workloads-")
    workloads = Workloads(quorum.bootstrap(), TOPIC, OUTPUT, PARTITIONS, work.name,
                          committing_group=COMMITTING_GROUP, transform_group=TRANSFORM_GROUP)
    try:
        workloads.progress()
        in_sync = (TOPIC, OUTPUT, "__consumer_offsets", "__transaction_state")

        # kill -9 of the committing group's coordinator, then of the transaction coordinator.
        for internal_topic, key in (("__consumer_offsets", COMMITTING_GROUP),
                                    ("__transaction_state", f"{TRANSFORM_GROUP}-txn")):
            victim = coordinator(quorum, internal_topic, key)
            quorum.nodes[victim].kill()
            workloads.progress()
            quorum.nodes[victim].start()
            wait_until(lambda: fully_in_sync(quorum, *in_sync), timeout=60, message=f"broker {victim} back in every ISR")

        # The transformer's group coordinator paused past its session: fenced and replaced. Woken,
        # it must neither take commits nor serve stale offsets (the offset checkers would see it).
        victim = coordinator(quorum, "__consumer_offsets", TRANSFORM_GROUP)
        quorum.nodes[victim].process.send_signal(signal.SIGSTOP)
        workloads.progress()
        quorum.nodes[victim].process.send_signal(signal.SIGCONT)
        wait_until(lambda: fully_in_sync(quorum, *in_sync), timeout=60, message="the paused coordinator back in every ISR")

        # kill -9 of the input's partition 0 leader, then of the active controller.
        for victim in (leaders(quorum.bootstrap(), TOPIC)[0][0], admin.list_topics(timeout=10).controller_id):
            quorum.nodes[victim].kill()
            workloads.progress()
            quorum.nodes[victim].start()
            wait_until(lambda: fully_in_sync(quorum, *in_sync), timeout=60, message=f"broker {victim} back in every ISR")
        workloads.progress()
        watermarks = workloads.stop_and_check()
        for node in quorum.nodes.values():
            node.stop()
        for topic, topic_watermarks in watermarks.items():
            check_replicas_agree({n: str(node.data_dir) for n, node in quorum.nodes.items()}, topic, topic_watermarks)
    except BaseException:
        keep_evidence(work.name, {n: node.output for n, node in quorum.nodes.items()})
        raise
    finally:
        workloads.kill()
    work.cleanup()


def write_marker(bootstrap: str, topic: str, partition: int, wait: float) -> int | None:
    """A COMMIT marker for an unknown producer (WriteTxnMarkers v0, coordinator epoch 0) sent to
    exactly this broker: the partition's error code, or None when no answer came within `wait`."""
    name = topic.encode()
    body = (struct.pack(">iqhb", 1, 424242, 0, 1) + struct.pack(">ih", 1, len(name)) + name
            + struct.pack(">iii", 1, partition, 0))
    with kafka_wire.connect(bootstrap) as sock:
        sock.sendall(kafka_wire.request_frame(27, 0, 5, body))
        sock.settimeout(wait)
        try:
            response = kafka_wire.read_frame(sock)
        except socket.timeout:
            return None
    # correlation id, 1 marker: producer id, 1 topic: name, 1 partition: index, error code
    (length,) = struct.unpack(">h", response[20:22])
    return struct.unpack(">h", response[22 + length + 8:22 + length + 10])[0]


def test_a_transaction_marker_is_acknowledged_only_once_the_isr_has_it(quorum_factory):
    # Paused followers stay in the ISR for a minute, so the marker cannot be committed meanwhile.
    quorum = quorum_factory(3, extra={n: ["replica.lag.time.max.ms=60000"] for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("marked", 1, 3, config={"min.insync.replicas": "2"})])["marked"].result(30)
    wait_until(lambda: fully_in_sync(quorum, "marked"), timeout=30, message="every replica in sync")
    leader = leaders(quorum.bootstrap(), "marked")[0][0]
    followers = [n for n in (1, 2, 3) if n != leader]
    for node in followers:
        quorum.nodes[node].process.send_signal(signal.SIGSTOP)
    try:
        code = write_marker(quorum.nodes[leader].bootstrap, "marked", 0, wait=5)
    finally:
        for node in followers:
            quorum.nodes[node].process.send_signal(signal.SIGCONT)
    assert code != 0, "the marker was acknowledged while no follower had it"
