"""Consumer groups with confluent-kafka (librdkafka) against the real `brook` binary: the classic
protocol's rebalances, committed offsets across restarts and kill -9, static membership and the
AdminClient's group calls."""
import time

import pytest
from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition

from kafka import KafkaAdminClient
from kafka.admin import MemberToRemove
from kafka.errors import NoError, UnknownMemberIdError

from groups_support import FAST_GROUPS, Tracked, group_broker, group_consumer, poll_until, split_evenly  # noqa: F401
from records_support import TIMEOUT, admin_client, create_topic, produce_all, producer


def produce_values(broker, topic: str, values: range, partitions: int) -> None:
    reports = produce_all(producer(broker), topic, [
        {"value": f"v{i}".encode(), "partition": i % partitions} for i in values
    ])
    assert all(r.error is None for r in reports)


def values_of(consumers: list[Tracked]) -> list[bytes]:
    return sorted(v for c in consumers for _, _, v in c.records)


@pytest.mark.parametrize("strategy", ["range", "roundrobin", "cooperative-sticky"])
def test_three_consumers_split_six_partitions_and_take_over_when_one_leaves(group_broker, strategy):
    topic = f"grp-split-{strategy}"
    create_topic(group_broker, topic, partitions=6)
    members = [Tracked(group_consumer(group_broker, f"g-{strategy}", **{"partition.assignment.strategy": strategy}), [topic])
               for _ in range(3)]
    poll_until(members, lambda: split_evenly(members, 6), message="three-way split")
    produce_values(group_broker, topic, range(60), 6)
    poll_until(members, lambda: len(values_of(members)) >= 60, message="60 records")
    # Each record exactly once, each from the consumer that owns its partition.
    assert values_of(members) == sorted(f"v{i}".encode() for i in range(60))
    for member in members:
        assert {p for p, _, _ in member.records} <= set(member.partitions())
        member.consumer.commit(asynchronous=False)

    leaving = members.pop()
    leaving.consumer.close()
    poll_until(members, lambda: split_evenly(members, 6), message="the two remaining consumers to take all partitions")
    for member in members:
        member.records.clear()
    produce_values(group_broker, topic, range(60, 90), 6)
    poll_until(members, lambda: len(values_of(members)) >= 30, message="records after the rebalance")
    # The leaver's partitions resume from its committed offsets: nothing is read twice.
    assert values_of(members) == sorted(f"v{i}".encode() for i in range(60, 90))
    for member in members:
        member.consumer.close()


def committed_offsets(broker, group: str, topic: str, partitions: int) -> list[int]:
    consumer = group_consumer(broker, group)
    try:
        committed = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=TIMEOUT)
        return [tp.offset for tp in committed]
    finally:
        consumer.close()


@pytest.mark.parametrize("stop", ["restart", "kill -9"])
def test_committed_offsets_survive_the_broker_stopping(group_broker, stop):
    topic = "grp-durable"
    create_topic(group_broker, topic, partitions=2)
    produce_values(group_broker, topic, range(20), 2)
    member = Tracked(group_consumer(group_broker, "durable"), [topic])
    poll_until([member], lambda: len(member.records) >= 20, message="20 records")
    member.consumer.commit(asynchronous=False)
    member.consumer.close()
    assert committed_offsets(group_broker, "durable", topic, 2) == [10, 10]

    if stop == "restart":
        group_broker.restart()
    else:
        group_broker.kill()
        group_broker.start()
    assert committed_offsets(group_broker, "durable", topic, 2) == [10, 10]
    produce_values(group_broker, topic, range(20, 24), 2)
    again = Tracked(group_consumer(group_broker, "durable"), [topic])
    poll_until([again], lambda: len(again.records) >= 4, message="records after the committed offsets")
    assert sorted(v for _, _, v in again.records) == [b"v20", b"v21", b"v22", b"v23"]
    again.consumer.close()


def test_a_static_member_restarting_within_its_session_does_not_rebalance(group_broker):
    topic = "grp-static"
    create_topic(group_broker, topic, partitions=4)
    static_settings = {"group.instance.id": "static-1", "session.timeout.ms": 30000}
    static = Tracked(group_consumer(group_broker, "static", **static_settings), [topic])
    other = Tracked(group_consumer(group_broker, "static", **{"group.instance.id": "static-2", "session.timeout.ms": 30000}), [topic])
    poll_until([static, other], lambda: split_evenly([static, other], 4), message="two static members")
    held = static.partitions()
    other_assignments = len(other.assigned)
    # Under load the two may have joined in two rebalances (the first gave `other` everything,
    # then took half back): only what happens from the restart on counts.
    other_revocations = len(other.revoked)
    # A static member does not send LeaveGroup when it closes; its replacement takes its place.
    static.consumer.close()
    replacement = Tracked(group_consumer(group_broker, "static", **static_settings), [topic])
    poll_until([replacement, other], lambda: replacement.partitions() == held, message="the replacement to get the same partitions")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        other.poll(0.1)
        replacement.poll(0.01)
    assert len(other.assigned) == other_assignments and len(other.revoked) == other_revocations
    admin = admin_client(group_broker)
    described = admin.describe_consumer_groups(["static"])["static"].result(timeout=TIMEOUT)
    assert described.state == ConsumerGroupState.STABLE
    assert sorted(m.group_instance_id for m in described.members) == ["static-1", "static-2"]
    replacement.consumer.close()
    other.consumer.close()


def test_admin_lists_describes_alters_and_deletes_groups(group_broker):
    topic = "grp-admin"
    create_topic(group_broker, topic, partitions=3)
    produce_values(group_broker, topic, range(9), 3)
    member = Tracked(group_consumer(group_broker, "admin-live", **{"client.id": "admin-test"}), [topic])
    poll_until([member], lambda: len(member.records) >= 9, message="9 records")
    member.consumer.commit(asynchronous=False)
    admin = admin_client(group_broker)

    listed = admin.list_consumer_groups().result(timeout=TIMEOUT)
    assert [(g.group_id, g.state) for g in listed.valid] == [("admin-live", ConsumerGroupState.STABLE)]
    stable_only = admin.list_consumer_groups(states={ConsumerGroupState.EMPTY}).result(timeout=TIMEOUT)
    assert stable_only.valid == []

    described = admin.describe_consumer_groups(["admin-live", "no-such-group"])
    live = described["admin-live"].result(timeout=TIMEOUT)
    assert live.state == ConsumerGroupState.STABLE
    assert live.partition_assignor == "range"
    assert [m.client_id for m in live.members] == ["admin-test"]
    assert live.members[0].host == "/127.0.0.1"
    assert sorted(tp.partition for tp in live.members[0].assignment.topic_partitions) == [0, 1, 2]
    assert described["no-such-group"].result(timeout=TIMEOUT).state == ConsumerGroupState.DEAD

    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions("admin-live")])["admin-live"].result(timeout=TIMEOUT)
    assert sorted((tp.topic, tp.partition, tp.offset) for tp in offsets.topic_partitions) == [(topic, p, 3) for p in range(3)]

    # A group with members can neither be deleted nor have its offsets altered.
    with pytest.raises(KafkaException) as refused:
        admin.delete_consumer_groups(["admin-live"])["admin-live"].result(timeout=TIMEOUT)
    assert refused.value.args[0].code() == KafkaError.NON_EMPTY_GROUP
    member.consumer.close()
    poll_until([], lambda: admin.describe_consumer_groups(["admin-live"])["admin-live"].result(timeout=TIMEOUT).state
               == ConsumerGroupState.EMPTY, message="the group to become empty")

    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions("admin-live", [TopicPartition(topic, 0, 1)])])[
        "admin-live"].result(timeout=TIMEOUT)
    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions("admin-live", [TopicPartition(topic, 0)])])[
        "admin-live"].result(timeout=TIMEOUT)
    assert [(tp.partition, tp.offset) for tp in offsets.topic_partitions] == [(0, 1)]

    admin.delete_consumer_groups(["admin-live"])["admin-live"].result(timeout=TIMEOUT)
    assert admin.list_consumer_groups().result(timeout=TIMEOUT).valid == []
    with pytest.raises(KafkaException) as missing:
        admin.delete_consumer_groups(["admin-live"])["admin-live"].result(timeout=TIMEOUT)
    assert missing.value.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND


def test_an_operator_removes_a_member_and_the_group_rebalances(group_broker):
    topic = "grp-remove"
    create_topic(group_broker, topic, partitions=2)
    survivor = Tracked(group_consumer(group_broker, "remove", **{"group.instance.id": "keep"}), [topic])
    removed = Tracked(group_consumer(group_broker, "remove", **{"group.instance.id": "drop"}), [topic])
    poll_until([survivor, removed], lambda: split_evenly([survivor, removed], 2), message="a two-way split")
    # kafka-python's remove_group_members sends a batched LeaveGroup (v3+) naming static members.
    admin = KafkaAdminClient(bootstrap_servers=group_broker.bootstrap)
    try:
        results = admin.remove_group_members("remove", [
            MemberToRemove(group_instance_id="drop"), MemberToRemove(group_instance_id="never-joined"),
        ])
        assert results == {"drop": NoError, "never-joined": UnknownMemberIdError}
    finally:
        admin.close()
    removed.consumer.close()
    poll_until([survivor], lambda: survivor.partitions() == [0, 1], message="the survivor to own both partitions")
    survivor.consumer.close()
