"""Replicated partitions (issue 16): with replication.factor 3, acks=all and min.insync.replicas 2,
followers fetch from leaders, the high watermark follows the ISR, and a killed leader loses no
acknowledged record: another in-sync replica takes over and real clients carry on."""
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaPythonPartition

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
    state = describe(quorum.bootstrap(), "replicated")
    for leader, replicas, isr in state.values():
        assert sorted(replicas) == [1, 2, 3] and sorted(isr) == [1, 2, 3], state
    assert sorted(consume_all(quorum.bootstrap(), "replicated", 3, 300)) == sorted(b"r%d" % i for i in range(300))


def test_killing_a_leader_loses_no_acknowledged_record(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    create(quorum.bootstrap(), "failover", 1, 3, min_insync_replicas="2")
    leader = wait_until(lambda: (s := describe(quorum.bootstrap(), "failover")) and s[0][0] >= 0 and s[0][0],
                        timeout=30, message="a leader")

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
    wait_until(lambda: sorted(describe(quorum.bootstrap(*survivors), "failover")[0][2]) == [1, 2, 3],
               timeout=60, message="the old leader back in the ISR")
