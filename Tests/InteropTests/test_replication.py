"""Replicated partitions (issue 16): with replication.factor 3, acks=all and min.insync.replicas 2,
followers fetch from leaders, the high watermark follows the ISR, and a killed leader loses no
acknowledged record: another in-sync replica takes over and real clients carry on."""
import json
import struct
import subprocess
import time

from confluent_kafka import Consumer, ElectionType, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaPythonPartition

import kafka_wire
from cli_support import brook, succeeded
from conftest import wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)

FAST = ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000"]


def every_node(nodes, extra=FAST):
    return {node: list(extra) for node in nodes}


def describe(bootstrap: str, topic: str) -> dict[int, tuple[int, list[int], list[int]]]:
    """Each partition's (leader, replicas, isr) as Metadata tells librdkafka."""
    found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10).topics.get(topic)
    if found is None or found.error is not None:
        return {}
    return {p.id: (p.leader, list(p.replicas), list(p.isrs)) for p in found.partitions.values()}


def partition_zero(bootstrap: str, topic: str) -> tuple[int, list[int], list[int]]:
    """Partition 0's (leader, replicas, isr); (-1, [], []) while the broker asked cannot say."""
    try:
        return describe(bootstrap, topic).get(0, (-1, [], []))
    except KafkaException:
        return (-1, [], [])


def create(bootstrap: str, topic: str, partitions: int, replication: int, **configs: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, partitions, replication, config={k.replace("_", "."): v for k, v in configs.items()})
    admin.create_topics([new], operation_timeout=10)[topic].result(30)


def consume_all(bootstrap: str, topic: str, partitions: int, expected: int, timeout: float = 60) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(values) < expected and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error():
            values.append(message.value())
    consumer.close()
    return values


def test_followers_replicate_and_the_isr_is_every_replica(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    create(quorum.bootstrap(), "replicated", 3, 3, min_insync_replicas="2")
    wait_until(lambda: len(describe(quorum.bootstrap(), "replicated")) == 3, timeout=30, message="three partitions")

    producer = Producer({"bootstrap.servers": quorum.bootstrap(), "acks": "all", "enable.idempotence": True})
    for i in range(300):
        producer.produce("replicated", value=b"r%d" % i, partition=i % 3)
    assert producer.flush(30) == 0

    # Every replica of every partition is in sync and the consumer reads all of it.
    wait_until(lambda: (state := describe(quorum.bootstrap(), "replicated")) and len(state) == 3
               and all(sorted(replicas) == [1, 2, 3] and sorted(isr) == [1, 2, 3] for _, replicas, isr in state.values()),
               timeout=30, message="every replica in every ISR")
    assert sorted(consume_all(quorum.bootstrap(), "replicated", 3, 300)) == sorted(b"r%d" % i for i in range(300))


def led_topic(quorum_factory, topic: str):
    """Three brokers and `topic` (one partition, three replicas, min.insync.replicas 2); its leader."""
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    create(quorum.bootstrap(), topic, 1, 3, min_insync_replicas="2")
    leader = wait_until(lambda: (s := describe(quorum.bootstrap(), topic)) and s[0][0] >= 0 and s[0][0],
                        timeout=30, message="a leader")
    return quorum, leader


def test_killing_a_leader_loses_no_acknowledged_record(quorum_factory):
    quorum, leader = led_topic(quorum_factory, "failover")

    acknowledged: list[bytes] = []

    def delivered(error, message):
        if error is None:
            acknowledged.append(message.value())

    survivors = [n for n in (1, 2, 3) if n != leader]
    producer = Producer({"bootstrap.servers": quorum.bootstrap(*survivors), "acks": "all", "enable.idempotence": True,
                         "message.timeout.ms": 60000})
    for i in range(200):
        producer.produce("failover", value=b"a%d" % i, on_delivery=delivered)
    assert producer.flush(30) == 0

    quorum.nodes[leader].kill()
    new_leader = wait_until(lambda: (s := describe(quorum.bootstrap(*survivors), "failover")) and s[0][0] in survivors
                            and s[0][0], timeout=30, message="a new leader")
    for i in range(200, 400):
        producer.produce("failover", value=b"a%d" % i, on_delivery=delivered)
    assert producer.flush(60) == 0
    assert len(acknowledged) == 400

    # Everything acknowledged is there, once, through the new leader.
    values = consume_all(quorum.bootstrap(new_leader), "failover", 1, 400)
    assert sorted(values) == sorted(acknowledged)

    # The old leader comes back as a follower, catches up and rejoins the ISR.
    quorum.nodes[leader].start()
    wait_until(lambda: sorted(partition_zero(quorum.bootstrap(*survivors), "failover")[2]) == [1, 2, 3],
               timeout=60, message="the old leader back in the ISR")


def test_kafka_python_and_kcat_carry_on_while_the_leader_is_killed(quorum_factory):
    quorum, leader = led_topic(quorum_factory, "carry-on")
    survivors = [n for n in (1, 2, 3) if n != leader]

    producer = KafkaProducer(bootstrap_servers=quorum.bootstrap(*survivors), acks="all", retries=50,
                             retry_backoff_ms=200, request_timeout_ms=10_000, max_block_ms=60_000)
    futures = [producer.send("carry-on", value=b"kp%d" % i) for i in range(100)]
    producer.flush(30)
    quorum.nodes[leader].kill()
    futures += [producer.send("carry-on", value=b"kp%d" % i) for i in range(100, 200)]
    producer.flush(90)
    offsets = [future.get(timeout=60).offset for future in futures]
    producer.close()
    assert offsets == sorted(offsets) and len(set(offsets)) == 200

    # kcat produces to the new leader and reads everything back.
    subprocess.run(["kcat", "-b", quorum.bootstrap(*survivors), "-P", "-t", "carry-on", "-X", "acks=all"],
                   input="\n".join(f"kc{i}" for i in range(50)) + "\n", text=True, check=True, timeout=60)
    listed = subprocess.run(["kcat", "-b", quorum.bootstrap(*survivors), "-C", "-t", "carry-on", "-o", "beginning", "-e",
                             "-q"], capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert listed == [f"kp{i}" for i in range(200)] + [f"kc{i}" for i in range(50)]

    consumer = KafkaConsumer(bootstrap_servers=quorum.bootstrap(*survivors), enable_auto_commit=False,
                             consumer_timeout_ms=10_000)
    consumer.assign([KafkaPythonPartition("carry-on", 0)])
    consumer.seek_to_beginning()
    seen = [record.value for record in consumer]
    consumer.close()
    assert seen == [b"kp%d" % i for i in range(200)] + [b"kc%d" % i for i in range(50)]


def preferred_leader_away_and_back(quorum, topic: str) -> int:
    """Creates `topic` (one partition, three replicas), kills its preferred leader until another
    leads, restarts it and waits until it is in sync again; returns the preferred leader."""
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    create(quorum.bootstrap(), topic, 1, 3)
    leader, replicas, _ = wait_until(lambda: (s := partition_zero(quorum.bootstrap(), topic)) and s[0] >= 0 and s,
                                     timeout=30, message="a leader")
    assert leader == replicas[0]
    quorum.nodes[leader].kill()
    others = [n for n in (1, 2, 3) if n != leader]
    wait_until(lambda: partition_zero(quorum.bootstrap(*others), topic)[0] in others, timeout=30, message="a new leader")
    quorum.nodes[leader].start()
    wait_until(lambda: sorted(partition_zero(quorum.bootstrap(), topic)[2]) == [1, 2, 3], timeout=60,
               message="the preferred leader back in sync")
    return leader


def test_a_preferred_leader_election_gives_the_partition_back(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    preferred = preferred_leader_away_and_back(quorum, "preferred")
    assert partition_zero(quorum.bootstrap(), "preferred")[0] != preferred, "no rebalance within 300 s"
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    outcome = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition("preferred", 0)]).result(timeout=30)
    assert outcome[TopicPartition("preferred", 0)] is None, outcome
    wait_until(lambda: partition_zero(quorum.bootstrap(), "preferred")[0] == preferred, timeout=30,
               message="the preferred leader leading again")
    again = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition("preferred", 0)]).result(timeout=30)
    error = again[TopicPartition("preferred", 0)]
    assert error is not None and error.name() == "ELECTION_NOT_NEEDED", again


def test_the_controller_rebalances_leaders_by_itself(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3), FAST + ["leader.imbalance.check.interval.seconds=1"]))
    preferred = preferred_leader_away_and_back(quorum, "rebalanced")
    wait_until(lambda: partition_zero(quorum.bootstrap(), "rebalanced")[0] == preferred, timeout=30,
               message="the preferred leader leading again without being asked")


def test_committed_offsets_survive_the_loss_of_the_group_coordinator(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    create(quorum.bootstrap(), "offsets-kept", 1, 3)
    producer = Producer({"bootstrap.servers": quorum.bootstrap(), "acks": "all"})
    for i in range(100):
        producer.produce("offsets-kept", value=b"o%d" % i)
    assert producer.flush(30) == 0

    def commit(offset: int, *nodes: int) -> None:
        def attempt():
            consumer = Consumer({"bootstrap.servers": quorum.bootstrap(*nodes), "group.id": "kept", "enable.auto.commit": False})
            try:
                consumer.commit(offsets=[TopicPartition("offsets-kept", 0, offset)], asynchronous=False)
                return True
            finally:
                consumer.close()
        # librdkafka hands COORDINATOR_LOAD_IN_PROGRESS back to the caller while the coordinator loads.
        wait_until(lambda: _quietly(attempt), timeout=60, message=f"offset {offset} committed")

    def committed(*nodes: int) -> int:
        consumer = Consumer({"bootstrap.servers": quorum.bootstrap(*nodes), "group.id": "kept"})
        try:
            return consumer.committed([TopicPartition("offsets-kept", 0)], timeout=10)[0].offset
        finally:
            consumer.close()

    commit(40)
    # __consumer_offsets is replicated on every broker (offsets.topic.replication.factor 3).
    wait_until(lambda: (found := describe(quorum.bootstrap(), "__consumer_offsets"))
               and all(sorted(replicas) == [1, 2, 3] for _, replicas, _ in found.values()), timeout=30,
               message="__consumer_offsets on every broker")
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})  # kept until the result comes
    coordinator = admin.describe_consumer_groups(["kept"])["kept"].result(timeout=30).coordinator.id
    quorum.nodes[coordinator].kill()
    others = [n for n in (1, 2, 3) if n != coordinator]
    # The offsets' partition moves to an in-sync replica, whose coordinator loads the commit.
    assert wait_until(lambda: (value := _quietly(lambda: committed(*others))) is not None and value >= 0 and value,
                      timeout=60, message="the committed offset from the new coordinator") == 40
    commit(70, *others)
    quorum.nodes[coordinator].start()
    assert committed(*others) == 70


def _quietly(call):
    try:
        return call()
    except KafkaException:
        return None


def test_an_out_of_sync_replica_leads_only_where_unclean_election_is_allowed(quorum_factory):
    # Voters 1-3 keep the quorum; the partitions live on brokers 4 and 5.
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3, 4, 5)}, brokers=2)
    quorum.wait_for_leader()
    quorum.wait_for_brokers(5)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap(1, 2, 3)})
    futures = admin.create_topics([
        NewTopic("clean", num_partitions=1, replica_assignment=[[4, 5]]),
        NewTopic("unclean", num_partitions=1, replica_assignment=[[4, 5]], config={"unclean.leader.election.enable": "true"}),
    ])
    for future in futures.values():
        future.result(30)
    for topic in ("clean", "unclean"):
        wait_until(lambda t=topic: sorted(partition_zero(quorum.bootstrap(1, 2, 3), t)[2]) == [4, 5], timeout=30,
                   message=f"{topic} in sync")

    # 5 goes down and leaves the ISRs; 4 takes more writes, then goes down too; 5 comes back.
    quorum.nodes[5].kill()
    wait_until(lambda: all(partition_zero(quorum.bootstrap(1, 2, 3), t)[2] == [4] for t in ("clean", "unclean")),
               timeout=30, message="5 out of both ISRs")
    producer = Producer({"bootstrap.servers": quorum.bootstrap(1, 2, 3), "acks": "all"})
    for topic in ("clean", "unclean"):
        producer.produce(topic, value=b"only on 4")
    assert producer.flush(30) == 0
    quorum.nodes[4].kill()
    quorum.nodes[5].start()
    wait_until(lambda: partition_zero(quorum.bootstrap(1, 2, 3), "unclean")[0] == 5, timeout=30,
               message="5 leading the topic that allows an unclean election")
    wait_until(lambda: (s := partition_zero(quorum.bootstrap(1, 2, 3), "clean")) and s[0] == -1 and s[1] == [4, 5], timeout=30,
               message="the clean topic waiting, offline, for 4")
    assert any("unclean leader election for unclean-0" in line for node in quorum.nodes.values() for line in node.output)
    assert not any("unclean leader election for clean-0" in line for node in quorum.nodes.values() for line in node.output)


def fetch_v4_error(bootstrap: str, topic: str, replica_id: int) -> int:
    """The error code a raw Fetch v4 from `replica_id` (-1: a consumer) of partition 0 gets."""
    name = topic.encode()
    body = struct.pack(">iiiib", replica_id, 0, 1, 1 << 20, 0) + struct.pack(">i", 1) \
        + struct.pack(">h", len(name)) + name + struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1 << 20)
    sock = kafka_wire.connect(bootstrap)
    try:
        sock.sendall(kafka_wire.request_frame(1, 4, 7, body))
        frame = kafka_wire.read_frame(sock)
    finally:
        sock.close()
    # correlation id, throttle time, one topic (its name), one partition: index, then error code.
    offset = 4 + 4 + 4
    (length,) = struct.unpack_from(">h", frame, offset)
    offset += 2 + length + 4 + 4
    (error,) = struct.unpack_from(">h", frame, offset)
    return error


def test_fetches_from_a_node_that_is_not_a_replica_or_of_a_follower_are_refused(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("pair", num_partitions=1, replica_assignment=[[1, 2]])])["pair"].result(30)
    wait_until(lambda: sorted(partition_zero(quorum.bootstrap(), "pair")[2]) == [1, 2], timeout=30, message="in sync")
    leader = partition_zero(quorum.bootstrap(), "pair")[0]
    follower = 3 - leader
    NOT_LEADER_OR_FOLLOWER = 6
    assert fetch_v4_error(quorum.bootstrap(leader), "pair", 3) == NOT_LEADER_OR_FOLLOWER, "3 holds no replica"
    assert fetch_v4_error(quorum.bootstrap(follower), "pair", -1) == NOT_LEADER_OR_FOLLOWER, "a follower serves no consumer before Fetch v11 (KIP-392)"
    assert fetch_v4_error(quorum.bootstrap(leader), "pair", follower) == 0
    assert fetch_v4_error(quorum.bootstrap(leader), "pair", -1) == 0
    assert sorted(partition_zero(quorum.bootstrap(), "pair")[2]) == [1, 2], "nothing changed"


def test_a_follower_below_the_leaders_log_start_catches_up_from_inside_a_batch(quorum_factory, tmp_path):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("trimmed", num_partitions=1, replica_assignment=[[1, 2, 3]])])["trimmed"].result(30)
    wait_until(lambda: sorted(partition_zero(quorum.bootstrap(), "trimmed")[2]) == [1, 2, 3], timeout=30, message="in sync")

    # Broker 3 is away while 60 records arrive, the last ten in one batch (offsets 50-59).
    quorum.nodes[3].stop()
    wait_until(lambda: sorted(partition_zero(quorum.bootstrap(1, 2), "trimmed")[2]) == [1, 2], timeout=30,
               message="3 out of the ISR")
    producer = Producer({"bootstrap.servers": quorum.bootstrap(1, 2), "acks": "all", "linger.ms": 100,
                         "batch.num.messages": 10})
    for chunk in (range(50), range(50, 60)):
        for i in chunk:
            producer.produce("trimmed", value=b"t%d" % i, partition=0)
        assert producer.flush(30) == 0

    # DeleteRecords moves the log start into that batch: broker 3's log (empty) is below it.
    offsets = tmp_path / "offsets.json"
    offsets.write_text(json.dumps({"partitions": [{"topic": "trimmed", "partition": 0, "offset": 55}], "version": 1}))
    assert "low_watermark: 55" in succeeded(brook("delete-records", "--bootstrap-server", quorum.bootstrap(1, 2),
                                                  "--offset-json-file", str(offsets)))

    # Back, it restarts at the leader's log start, takes the batch holding it, and rejoins.
    quorum.nodes[3].start()
    wait_until(lambda: sorted(partition_zero(quorum.bootstrap(), "trimmed")[2]) == [1, 2, 3], timeout=30,
               message="broker 3 back in the ISR")
    consumer = Consumer({"bootstrap.servers": quorum.bootstrap(), "group.id": "trimmed"})
    assert consumer.get_watermark_offsets(TopicPartition("trimmed", 0), timeout=10) == (55, 60)
    consumer.close()
