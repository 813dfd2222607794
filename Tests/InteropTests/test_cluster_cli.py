"""`brook cluster` (describe, cluster-id) and `brook delete-records` against the real broker,
cross-checked with confluent-kafka."""
import json

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from cli_support import TIMEOUT, brook, closed_port, failed_with, silent_listener, succeeded, usage_error


def test_cluster_describe_matches_what_confluent_sees(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    cluster = admin.describe_cluster().result(timeout=TIMEOUT)
    described = succeeded(brook("cluster", "describe", "--bootstrap-server", broker.bootstrap)).splitlines()
    assert described[0] == f"Cluster ID: {cluster.cluster_id}"
    assert described[1] == f"Controller ID: {cluster.controller.id}"
    assert described[2].split() == ["BROKER-ID", "HOST", "PORT", "RACK", "STATE"]
    assert [line.split() for line in described[3:]] == [[str(node.id), node.host, str(node.port), "-", "registered"]
                                                       for node in cluster.nodes]
    assert succeeded(brook("cluster", "cluster-id", "--bootstrap-server", broker.bootstrap)) == f"Cluster ID: {cluster.cluster_id}\n"


def test_cluster_commands_fail_with_one_line():
    port = closed_port()
    failed_with(brook("cluster", "describe", "--bootstrap-server", f"127.0.0.1:{port}"), f"cannot connect to 127.0.0.1:{port}")
    with silent_listener() as address:
        failed_with(brook("cluster", "cluster-id", "--bootstrap-server", address, "--timeout-ms", "1000"), "no answer")
    usage_error(brook("cluster", "describe"), "--bootstrap-server")
    for command in ([], ["describe"], ["cluster-id"]):
        assert brook("cluster", *command, "--help").returncode == 0


def test_delete_records_moves_the_log_start_offset(broker, tmp_path):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("trim", 2, 1)])["trim"].result(timeout=TIMEOUT)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for index in range(10):
        producer.produce("trim", value=f"v{index}".encode(), partition=index % 2)
    assert producer.flush(TIMEOUT) == 0

    offsets = tmp_path / "offsets.json"
    offsets.write_text(json.dumps({"partitions": [{"topic": "trim", "partition": 0, "offset": 3},
                                                  {"topic": "trim", "partition": 1, "offset": -1}], "version": 1}))
    deleted = succeeded(brook("delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(offsets)))
    assert deleted.splitlines() == ["Executing records delete operation", "Records delete operation completed:",
                                    "partition: trim-0\tlow_watermark: 3", "partition: trim-1\tlow_watermark: 5"]
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    assert consumer.get_watermark_offsets(TopicPartition("trim", 0), timeout=TIMEOUT) == (3, 5)
    assert consumer.get_watermark_offsets(TopicPartition("trim", 1), timeout=TIMEOUT) == (5, 5)
    consumer.close()

    # Each partition answers for itself: the good one is trimmed, the bad ones say why.
    offsets.write_text(json.dumps({"partitions": [{"topic": "trim", "partition": 0, "offset": 4},
                                                  {"topic": "trim", "partition": 1, "offset": 99},
                                                  {"topic": "absent", "partition": 0, "offset": 1}]}))
    partial = brook("delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(offsets))
    assert partial.returncode == 1
    assert partial.stdout.splitlines()[2:] == ["partition: absent-0\terror: UNKNOWN_TOPIC_OR_PARTITION",
                                               "partition: trim-0\tlow_watermark: 4",
                                               "partition: trim-1\terror: OFFSET_OUT_OF_RANGE"]
    # The unknown topic was not auto-created.
    assert "absent" not in admin.list_topics(timeout=TIMEOUT).topics


def test_bad_offset_files_fail_with_one_line(broker, tmp_path):
    missing = tmp_path / "missing.json"
    failed_with(brook("delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(missing)), "cannot read")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    failed_with(brook("delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(garbage)), "not an offset JSON file")
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps({"partitions": [{"topic": "t", "partition": 0, "offset": 1}] * 2, "version": 1}))
    failed_with(brook("delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(twice)), "duplicate", "t-0")
    later = tmp_path / "later.json"
    later.write_text(json.dumps({"partitions": [], "version": 2}))
    failed_with(brook("delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(later)), "version")
    assert brook("delete-records", "--help").returncode == 0
