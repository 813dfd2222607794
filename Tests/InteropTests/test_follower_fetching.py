"""Fetching from the closest replica (KIP-392): brokers in racks, leaders with
replica.selector.class=RackAwareReplicaSelector, and a librdkafka consumer with client.rack.
The leader sends the consumer to the in-sync replica in its rack, which serves it up to its own
high watermark; records written later reach the consumer through that follower too; when the
follower goes away, the consumer returns to the leader and carries on. A consumer that names
no rack, or a rack without a replica, stays on the leader."""
import json
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)

RACKS = {1: "east", 2: "west", 3: "north"}
SELECTOR = "replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector"
FAST = ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000"]


def in_sync(bootstrap: str, topic: str) -> bool:
    found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10).topics.get(topic)
    if found is None or found.error is not None or 0 not in found.partitions:
        return False
    partition = found.partitions[0]
    return partition.leader == 1 and sorted(partition.isrs) == [1, 2, 3]


def produce(bootstrap: str, topic: str, values: range) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in values:
        producer.produce(topic, value=b"f%d" % i, partition=0)
    assert producer.flush(30) == 0


class RackConsumer:
    """A librdkafka consumer of partition 0 in `rack`, watching which broker it fetches from."""

    def __init__(self, bootstrap: str, topic: str, rack: str | None):
        self.fetching_from = -1
        settings = {"bootstrap.servers": bootstrap, "group.id": "nearby", "enable.auto.commit": False,
                    "fetch.wait.max.ms": 100, "statistics.interval.ms": 100, "stats_cb": self.statistics,
                    "topic.metadata.refresh.interval.ms": 1000}
        if rack is not None:
            settings["client.rack"] = rack
        self.topic = topic
        self.consumer = Consumer(settings)
        self.consumer.assign([TopicPartition(topic, 0, 0)])
        self.values: list[bytes] = []

    def statistics(self, text: str) -> None:
        partition = json.loads(text).get("topics", {}).get(self.topic, {}).get("partitions", {}).get("0")
        if partition is not None:
            self.fetching_from = partition["broker"]

    def read(self, count: int, timeout: float = 60) -> None:
        """Reads until `count` records in all have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.values) < count and time.monotonic() < deadline:
            message = self.consumer.poll(0.2)
            if message is not None and not message.error():
                self.values.append(message.value())
        assert len(self.values) >= count, f"{len(self.values)} of {count} records"

    def wait_for_broker(self, broker: int) -> None:
        def fetching() -> bool:
            message = self.consumer.poll(0.1)  # statistics arrive through poll
            if message is not None and not message.error():
                self.values.append(message.value())
            return self.fetching_from == broker

        wait_until(fetching, timeout=30, message=f"fetching from broker {broker} (now {self.fetching_from})")


def racked_cluster(quorum_factory, topic: str):
    quorum = quorum_factory(3, extra={n: [*FAST, f"broker.rack={RACKS[n]}", SELECTOR] for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic(topic, num_partitions=1, replica_assignment=[[1, 2, 3]])])[topic].result(30)
    wait_until(lambda: in_sync(quorum.bootstrap(), topic), timeout=30, message="led by 1 with every replica in sync")
    return quorum


def test_a_consumer_reads_from_the_replica_in_its_rack_and_falls_back_to_the_leader(quorum_factory):
    quorum = racked_cluster(quorum_factory, "nearby")
    produce(quorum.bootstrap(), "nearby", range(200))

    consumer = RackConsumer(quorum.bootstrap(), "nearby", "north")
    try:
        consumer.read(200)
        consumer.wait_for_broker(3)
        # Written after the move: the follower in the consumer's rack serves them.
        produce(quorum.bootstrap(), "nearby", range(200, 400))
        consumer.read(400)
        assert consumer.fetching_from == 3
        # Without that follower, the consumer goes back to the leader.
        quorum.nodes[3].stop()
        produce(quorum.bootstrap(1, 2), "nearby", range(400, 500))
        consumer.read(500)
        consumer.wait_for_broker(1)
        assert consumer.values == [b"f%d" % i for i in range(500)], "every record once, in order"
    finally:
        consumer.consumer.close()


def test_consumers_without_a_replica_in_their_rack_read_from_the_leader(quorum_factory):
    quorum = racked_cluster(quorum_factory, "far")
    produce(quorum.bootstrap(), "far", range(100))
    for rack in (None, "south", "east"):
        consumer = RackConsumer(quorum.bootstrap(), "far", rack)
        try:
            consumer.read(100)
            consumer.wait_for_broker(1)
            assert consumer.values == [b"f%d" % i for i in range(100)]
        finally:
            consumer.consumer.close()
