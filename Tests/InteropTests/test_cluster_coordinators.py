"""A three-broker cluster serving what only one broker can decide: changes sent to a broker that
is not the controller are forwarded to it (auto-created topics too); each group and each
transactional id is coordinated by the broker that leads its partition of `__consumer_offsets`
or `__transaction_state`, other brokers answer NOT_COORDINATOR; transactions whose partitions
and coordinators sit on different brokers commit and abort; a broker killed and restarted gets
its partitions back, offline meanwhile, with its groups' offsets."""
import struct
import subprocess
import time
from types import SimpleNamespace

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer

import kafka_wire
from conftest import wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)
from transactions_support import produce_transaction, read_all, transactional_producer

NOT_COORDINATOR = 16
OFFSETS_PARTITIONS = 50


def java_partition(key: str, partitions: int = OFFSETS_PARTITIONS) -> int:
    """Kafka's `abs(key.hashCode) % partitions`."""
    value = 0
    for unit in key.encode("utf-16-be").hex(" ", 2).split():
        value = (value * 31 + int(unit, 16)) & 0xFFFFFFFF
    if value >= 1 << 31:
        value -= 1 << 32
    return 0 if value == -(1 << 31) else abs(value) % partitions


def keys_on_distinct_residues(prefix: str) -> list[str]:
    """Three keys whose partitions differ modulo 3: placed round the three brokers, each lands on
    another broker."""
    chosen: dict[int, str] = {}
    index = 0
    while len(chosen) < 3:
        key = f"{prefix}-{index}"
        chosen.setdefault(java_partition(key) % 3, key)
        index += 1
    return [chosen[residue] for residue in sorted(chosen)]


def metadata(bootstrap: str):
    return AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)


def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    return metadata(bootstrap).topics[topic].partitions[partition].leader


def find_coordinator(bootstrap: str, key: str, key_type: int) -> int:
    """FindCoordinator v1 sent to exactly this broker; the node id it names (-1 on an error)."""
    encoded = key.encode()
    body = struct.pack(">h", len(encoded)) + encoded + struct.pack(">b", key_type)
    with kafka_wire.connect(bootstrap) as sock:
        sock.sendall(kafka_wire.request_frame(10, 1, 3, body))
        response = kafka_wire.read_frame(sock)
    # correlation id, throttle, error code, error message (nullable string), node id
    error = struct.unpack(">h", response[8:10])[0]
    length = struct.unpack(">h", response[10:12])[0]
    node = struct.unpack(">i", response[12 + max(0, length):16 + max(0, length)])[0]
    return node if error == 0 else -1


def heartbeat_error(bootstrap: str, group: str) -> int:
    """Heartbeat v0 for an unknown member, sent to exactly this broker; its error code."""
    encoded = group.encode()
    body = struct.pack(">h", len(encoded)) + encoded + struct.pack(">i", 1) + struct.pack(">h", 4) + b"nope"
    with kafka_wire.connect(bootstrap) as sock:
        sock.sendall(kafka_wire.request_frame(12, 0, 4, body))
        response = kafka_wire.read_frame(sock)
    return struct.unpack(">h", response[4:6])[0]


def consume_and_commit(bootstrap: str, group: str, topic: str, expected: int) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + 60
    while seen < expected and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error():
            seen += 1
    assert seen == expected, f"{group} read {seen} of {expected}"
    consumer.commit(asynchronous=False)
    consumer.close()


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])
    answer = admin.list_consumer_group_offsets([request])[group].result(30)
    return {tp.partition: tp.offset for tp in answer.topic_partitions}


def test_a_topic_auto_created_through_a_broker_that_is_not_the_controller(quorum_factory):
    quorum = quorum_factory(3)
    leader, _ = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    follower = next(n for n in quorum.nodes if n != leader)

    produced = subprocess.run(["kcat", "-b", quorum.bootstrap(follower), "-P", "-t", "made-on-first-use"],
                              input="\n".join(f"v{i}" for i in range(20)), capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stderr
    wait_until(lambda: "made-on-first-use" in metadata(quorum.bootstrap(leader)).topics, message="topic on the controller")
    consumed = subprocess.run(["kcat", "-b", quorum.bootstrap(), "-C", "-t", "made-on-first-use", "-e", "-o", "beginning"],
                              capture_output=True, text=True, timeout=60)
    assert sorted(consumed.stdout.split()) == sorted(f"v{i}" for i in range(20)), consumed.stderr


def test_groups_are_coordinated_by_the_brokers_leading_their_partitions(quorum_factory):
    quorum = quorum_factory(3, extra={n: ["group.initial.rebalance.delay.ms=0"] for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("work", 3, 1)], operation_timeout=10)["work"].result(30)
    producer = Producer({"bootstrap.servers": quorum.bootstrap()})
    for i in range(90):
        producer.produce("work", value=b"w%d" % i, partition=i % 3)
    assert producer.flush(30) == 0

    groups = keys_on_distinct_residues("team")
    # The first lookup has __consumer_offsets created (through the controller); then every
    # broker names the same coordinator for a group: the leader of the group's partition.
    wait_until(lambda: find_coordinator(quorum.bootstrap(1), groups[0], 0) >= 0, timeout=30, message="offsets topic")
    coordinators = {}
    for group in groups:
        leader = leader_of(quorum.bootstrap(), "__consumer_offsets", java_partition(group))
        for node in quorum.nodes:
            assert find_coordinator(quorum.bootstrap(node), group, 0) == leader
        others = [n for n in quorum.nodes if n != leader]
        assert heartbeat_error(quorum.bootstrap(others[0]), group) == NOT_COORDINATOR
        coordinators[group] = leader
    assert len(set(coordinators.values())) == 3, coordinators

    for group in groups:
        consume_and_commit(quorum.bootstrap(), group, "work", 90)
        assert committed(quorum.bootstrap(), group, "work", 3) == {0: 30, 1: 30, 2: 30}
    # kafka-python finds the same coordinators and resumes from the committed offsets.
    resumed = KafkaConsumer("work", bootstrap_servers=quorum.bootstrap(), group_id=groups[1],
                            enable_auto_commit=False, consumer_timeout_ms=3000)
    assert [record for record in resumed] == []
    resumed.close()

    # A broker killed and restarted is fenced when it registers again: its partitions are
    # offline (no leader) until it is unfenced, then it leads them again and loads its groups.
    controller = metadata(quorum.bootstrap()).controller_id
    group, victim = next((g, n) for g, n in coordinators.items() if n != controller)
    quorum.nodes[victim].kill()
    quorum.nodes[victim].start()
    quorum.wait_for_brokers(3)
    wait_until(lambda: find_coordinator(quorum.bootstrap(controller), group, 0) == victim, timeout=30,
               message="the restarted broker coordinating again")
    # Until its load ends the coordinator answers COORDINATOR_LOAD_IN_PROGRESS.
    assert wait_until(lambda: _committed_or_none(quorum.bootstrap(), group), timeout=30,
                      message="offsets after the restart") == {0: 30, 1: 30, 2: 30}


def _committed_or_none(bootstrap: str, group: str):
    try:
        return committed(bootstrap, group, "work", 3)
    except Exception:  # noqa: BLE001  (COORDINATOR_LOAD_IN_PROGRESS, which librdkafka's admin does not retry)
        return None


def test_a_fenced_brokers_partitions_have_no_leader_until_it_returns(quorum_factory):
    quorum = quorum_factory(3, extra={n: ["broker.session.timeout.ms=2000"] for n in (1, 2, 3)})
    controller, _ = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("offline", 3, 1)], operation_timeout=10)["offline"].result(30)
    victim = next(n for n in quorum.nodes if n != controller)
    owned = wait_until(lambda: [p for p in range(3) if leader_of(quorum.bootstrap(controller), "offline", p) == victim],
                       message="a partition on the victim")

    quorum.nodes[victim].kill()
    wait_until(lambda: all(leader_of(quorum.bootstrap(controller), "offline", p) == -1 for p in owned), timeout=15,
               message="the killed broker's partitions offline")
    quorum.nodes[victim].start()
    wait_until(lambda: all(leader_of(quorum.bootstrap(controller), "offline", p) == victim for p in owned), timeout=30,
               message="the restarted broker leading its partitions again")


def test_transactions_span_brokers_for_their_partitions_and_coordinators(quorum_factory):
    quorum = quorum_factory(3, extra={n: ["group.initial.rebalance.delay.ms=0"] for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    cluster = SimpleNamespace(bootstrap=quorum.bootstrap())
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("ledger", 3, 1)], operation_timeout=10)["ledger"].result(30)
    assert len({leader_of(quorum.bootstrap(), "ledger", p) for p in range(3)}) == 3

    ids = keys_on_distinct_residues("payments")
    expected = []
    for number, transactional_id in enumerate(ids):
        client = wait_until(lambda: _initialised(cluster, transactional_id), timeout=60, message=f"{transactional_id} ready")
        committed_values = [b"%s-ok-%d" % (transactional_id.encode(), i) for i in range(9)]
        produce_transaction(client, "ledger", committed_values, commit=True, partitions=3)
        produce_transaction(client, "ledger", [b"%s-no-%d" % (transactional_id.encode(), i) for i in range(6)],
                            commit=False, partitions=3)
        expected += committed_values
        client.flush(10)
    coordinators = {find_coordinator(quorum.bootstrap(1), tid, 1) for tid in ids}
    assert len(coordinators) == 3, coordinators

    read = read_all(cluster, "ledger", 3, "read_committed")
    assert sorted(read) == sorted(expected)
    assert len(read_all(cluster, "ledger", 3, "read_uncommitted")) == len(expected) + 6 * len(ids)


def _initialised(cluster, transactional_id: str):
    try:
        return transactional_producer(cluster, transactional_id)
    except Exception:  # noqa: BLE001  (the state topic is still being created)
        return None
