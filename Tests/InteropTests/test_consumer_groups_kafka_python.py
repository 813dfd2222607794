"""Consumer groups with kafka-python against the real `brook` binary: KafkaConsumer in a group
(JoinGroup/SyncGroup at the versions kafka-python picks), commits, and KafkaAdminClient's group
calls including OffsetDelete."""
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, OffsetAndMetadata
from kafka import TopicPartition as KTopicPartition
from kafka.errors import GroupIdNotFoundError, GroupSubscribedToTopicError, NoError, NonEmptyGroupError

from conftest import wait_until
from groups_support import group_broker  # noqa: F401
from records_support import TIMEOUT, create_topic, produce_all, producer


def kafka_python_consumer(broker, group: str, *topics: str) -> KafkaConsumer:
    # metadata_max_age_ms: kafka-python 3.0.12 forgets a subscribed topic when a Metadata request
    # sent before the subscription answers after it (cluster.py leaves that case as a TODO); the
    # leader then assigns nothing until the next periodic refresh, 5 minutes by default.
    return KafkaConsumer(
        *topics, bootstrap_servers=broker.bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, heartbeat_interval_ms=300, session_timeout_ms=6000, consumer_timeout_ms=200,
        metadata_max_age_ms=1000,
    )


def consume(consumer: KafkaConsumer, count: int) -> list:
    records = []
    deadline = time.monotonic() + TIMEOUT * 2
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=100).values():
            records.extend(batch)
    return records


class PollingThread(threading.Thread):
    """Polls one KafkaConsumer without pause in its own thread, as an application does.

    kafka-python 3.0.12 throws away a JoinGroup/SyncGroup result that arrives between two poll()
    calls and joins again, which starts another rebalance; members polled in turn with short
    timeouts can rebalance for minutes. Polling each member continuously keeps that window tiny."""

    def __init__(self, consumer: KafkaConsumer):
        super().__init__(daemon=True)
        self.consumer = consumer
        self.records: list = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for batch in self.consumer.poll(timeout_ms=250).values():
                self.records.extend(batch)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=TIMEOUT)
        assert not self.is_alive(), "the polling thread did not stop"


def test_kafka_python_consumers_share_a_topic_and_resume_from_commits(group_broker):
    topic = "kp-group"
    create_topic(group_broker, topic, partitions=4)
    members = [PollingThread(kafka_python_consumer(group_broker, "kp", topic)) for _ in range(2)]
    for member in members:
        member.start()

    def partitions() -> list[list[int]]:
        return [sorted(p.partition for p in m.consumer.assignment()) for m in members]

    wait_until(lambda: sorted(sum(partitions(), [])) == [0, 1, 2, 3] and all(partitions()),
               timeout=TIMEOUT * 2, message=f"both members assigned, have {partitions()}")

    produce_all(producer(group_broker), topic, [{"value": f"v{i}".encode(), "partition": i % 4} for i in range(40)])
    wait_until(lambda: sum(len(m.records) for m in members) >= 40, timeout=TIMEOUT * 2, message="40 records")
    for member in members:
        member.stop()
    assert sorted(r.value for m in members for r in m.records) == sorted(f"v{i}".encode() for i in range(40))
    for member in members:
        member.consumer.commit()
    assert members[0].consumer.committed(KTopicPartition(topic, 0)) == 10
    for member in members:
        member.consumer.close()

    produce_all(producer(group_broker), topic, [{"value": b"later", "partition": 2}])
    resumed = kafka_python_consumer(group_broker, "kp", topic)
    assert [r.value for r in consume(resumed, 1)] == [b"later"]
    resumed.close()


def test_kafka_python_admin_lists_describes_and_deletes_groups_and_offsets(group_broker):
    topic = "kp-admin"
    create_topic(group_broker, topic, partitions=2)
    produce_all(producer(group_broker), topic, [{"value": b"x", "partition": i % 2} for i in range(6)])
    consumer = kafka_python_consumer(group_broker, "kp-admin", topic)
    assert len(consume(consumer, 6)) == 6
    consumer.commit({KTopicPartition(topic, 0): OffsetAndMetadata(3, "meta", -1),
                     KTopicPartition(topic, 1): OffsetAndMetadata(2, "", -1)})
    admin = KafkaAdminClient(bootstrap_servers=group_broker.bootstrap)
    try:
        groups = admin.list_groups()
        assert [(g["group_id"], g["protocol_type"], g["group_state"]) for g in groups] == [("kp-admin", "consumer", "Stable")]
        described = admin.describe_groups(["kp-admin"])["kp-admin"]
        assert described["group_state"] == "Stable"
        assert described["members"][0]["member_assignment"]["assigned_partitions"] == [{"topic": topic, "partitions": [0, 1]}]
        # Both groups in one OffsetFetch v8+ (KIP-709); a group without commits has no offsets.
        everything = admin.list_group_offsets(["kp-admin", "kp-nobody"])
        assert everything["kp-nobody"] == {}
        offsets = everything["kp-admin"]
        assert {tp.partition: (o.offset, o.metadata) for tp, o in offsets.items()} == {0: (3, "meta"), 1: (2, "")}

        # A live member subscribed to the topic keeps its offsets; the group cannot be deleted.
        deleted = admin.delete_group_offsets("kp-admin", [KTopicPartition(topic, 0)])
        assert deleted == {KTopicPartition(topic, 0): GroupSubscribedToTopicError}
        assert admin.delete_groups(["kp-admin"]) == {"kp-admin": NonEmptyGroupError.__name__}

        consumer.close()
        deadline = time.monotonic() + TIMEOUT
        while admin.describe_groups(["kp-admin"])["kp-admin"]["group_state"] != "Empty":
            assert time.monotonic() < deadline, "the group did not become empty"
            time.sleep(0.05)
        assert admin.delete_group_offsets("kp-admin", [KTopicPartition(topic, 0)]) == {KTopicPartition(topic, 0): NoError}
        assert {tp.partition for tp in admin.list_group_offsets("kp-admin")["kp-admin"]} == {1}
        assert admin.delete_groups(["kp-admin"]) == {"kp-admin": "OK"}
        assert admin.delete_groups(["kp-admin"]) == {"kp-admin": GroupIdNotFoundError.__name__}
        assert admin.list_groups() == []
    finally:
        admin.close()
