"""`brook groups` (list, describe with lag, reset-offsets, delete) against the real broker, with
groups made by confluent-kafka consumers: the operator's view kafka-consumer-groups gives."""
import subprocess

from confluent_kafka import TopicPartition

from conftest import brook_binary, wait_until
from groups_support import Tracked, group_broker, group_consumer, poll_until  # noqa: F401
from records_support import TIMEOUT, create_topic, produce_all, producer


def groups_cli(broker, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(brook_binary()), "groups", *args, "--bootstrap-server", broker.bootstrap],
                          capture_output=True, text=True, timeout=60)


def table(output: str) -> list[list[str]]:
    """The rows of the first table in `output` (header included), split on whitespace."""
    lines = [line.split() for line in output.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line[0] == "GROUP")
    return lines[start:]


def committed(broker, group: str, topic: str, partitions: int) -> list[int]:
    consumer = group_consumer(broker, group)
    try:
        return [tp.offset for tp in consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=TIMEOUT)]
    finally:
        consumer.close()


def test_groups_cli_shows_lag_resets_offsets_and_deletes(group_broker):
    topic = "cli-groups"
    create_topic(group_broker, topic, partitions=2)
    produce_all(producer(group_broker), topic, [{"value": b"x", "partition": i % 2} for i in range(10)])
    member = Tracked(group_consumer(group_broker, "cli-g", **{"client.id": "cli-client"}), [topic])
    poll_until([member], lambda: len(member.records) >= 10, message="10 records")
    member.consumer.commit(offsets=[TopicPartition(topic, 0, 2), TopicPartition(topic, 1, 5)], asynchronous=False)

    listed = groups_cli(group_broker, "list", "--state", "--type")
    assert listed.returncode == 0, listed.stderr
    assert table(listed.stdout) == [["GROUP", "TYPE", "STATE"], ["cli-g", "Classic", "Stable"]]

    described = groups_cli(group_broker, "describe", "--group", "cli-g")
    assert described.returncode == 0, described.stderr
    rows = table(described.stdout)
    assert rows[0] == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]
    member_id = member.consumer.memberid()
    assert rows[1:] == [["cli-g", topic, "0", "2", "5", "3", member_id, "/127.0.0.1", "cli-client"],
                        ["cli-g", topic, "1", "5", "5", "0", member_id, "/127.0.0.1", "cli-client"]]

    state = groups_cli(group_broker, "describe", "--group", "cli-g", "--state")
    assert table(state.stdout)[1] == ["cli-g", "range", "Stable", "1"]
    members = groups_cli(group_broker, "describe", "--group", "cli-g", "--members")
    assert table(members.stdout)[1] == ["cli-g", member_id, "-", "/127.0.0.1", "cli-client", "2"]

    # Offsets of a live group cannot be reset, nor can it be deleted.
    refused = groups_cli(group_broker, "reset-offsets", "--group", "cli-g", "--topic", topic, "--to-earliest", "--execute")
    assert refused.returncode != 0 and "current state is Stable" in refused.stdout
    assert groups_cli(group_broker, "delete", "--group", "cli-g").returncode != 0

    member.consumer.close()
    wait_until(lambda: "has no active members" in groups_cli(group_broker, "describe", "--group", "cli-g").stdout,
               timeout=TIMEOUT, message="the group to empty")

    plan = groups_cli(group_broker, "reset-offsets", "--group", "cli-g", "--topic", topic, "--to-earliest")
    assert "No action will be performed" in plan.stdout
    assert table(plan.stdout)[1:] == [["cli-g", topic, "0", "0"], ["cli-g", topic, "1", "0"]]
    assert committed(group_broker, "cli-g", topic, 2) == [2, 5]

    shifted = groups_cli(group_broker, "reset-offsets", "--group", "cli-g", "--topic", f"{topic}:1", "--shift-by", "-3", "--execute")
    assert shifted.returncode == 0, shifted.stdout + shifted.stderr
    assert table(shifted.stdout)[1:] == [["cli-g", topic, "1", "2"]]
    clamped = groups_cli(group_broker, "reset-offsets", "--group", "cli-g", "--topic", f"{topic}:0", "--to-offset", "99", "--execute")
    assert table(clamped.stdout)[1:] == [["cli-g", topic, "0", "5"]]
    assert committed(group_broker, "cli-g", topic, 2) == [5, 2]
    latest = groups_cli(group_broker, "reset-offsets", "--group", "cli-g", "--topic", topic, "--to-datetime", "2999-01-01T00:00:00.000Z", "--execute")
    assert table(latest.stdout)[1:] == [["cli-g", topic, "0", "5"], ["cli-g", topic, "1", "5"]]

    deleted = groups_cli(group_broker, "delete", "--group", "cli-g")
    assert deleted.returncode == 0 and "was successful" in deleted.stdout
    missing = groups_cli(group_broker, "describe", "--group", "cli-g")
    assert missing.returncode != 0 and "does not exist" in missing.stdout
    assert groups_cli(group_broker, "list").stdout.strip() == ""


def test_groups_cli_describes_kip848_groups(broker_factory):
    broker = broker_factory("group.consumer.heartbeat.interval.ms=300")
    topic = "cli-848"
    create_topic(broker, topic, partitions=3)
    produce_all(producer(broker), topic, [{"value": b"y", "partition": i % 3} for i in range(6)])
    member = Tracked(group_consumer(broker, "cli-848", **{"group.protocol": "consumer", "session.timeout.ms": None,
                                                          "heartbeat.interval.ms": None}), [topic])
    poll_until([member], lambda: len(member.records) >= 6, message="6 records")
    member.consumer.commit(asynchronous=False)
    listed = groups_cli(broker, "list", "--type")
    assert table(listed.stdout)[1:] == [["cli-848", "Consumer"]]
    rows = table(groups_cli(broker, "describe", "--group", "cli-848").stdout)
    assert [row[:6] for row in rows[1:]] == [["cli-848", topic, str(p), "2", "2", "0"] for p in range(3)]
    assert {row[6] for row in rows[1:]} == {member.consumer.memberid()}
    member.consumer.close()
