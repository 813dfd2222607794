"""DeleteRecords, DescribeLogDirs and OffsetForLeaderEpoch against real clients."""
import subprocess

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient


def produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for index in range(count):
        producer.produce(topic, value=f"value-{index}".encode(), partition=0)
    assert producer.flush(30) == 0


def test_delete_records_moves_the_log_start_offset(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("trimmed", 1, 1)])["trimmed"].result(30)
    produce(broker.bootstrap, "trimmed", 10)
    result = admin.delete_records([TopicPartition("trimmed", 0, 4)])[TopicPartition("trimmed", 0, 4)].result(30)
    assert result.low_watermark == 4
    consumer = Consumer({
        "bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    low, high = consumer.get_watermark_offsets(TopicPartition("trimmed", 0), timeout=10)
    assert (low, high) == (4, 10)
    consumer.assign([TopicPartition("trimmed", 0, 0)])
    values = []
    while len(values) < 6:
        message = consumer.poll(10)
        assert message is not None
        assert message.error() is None or message.error().code() == -191, message.error()  # partition EOF
        if message.error() is None:
            values.append((message.offset(), message.value()))
    consumer.close()
    # Offset 0 is below the log start: OFFSET_OUT_OF_RANGE makes the consumer reset to the
    # earliest offset, which is the new log start offset.
    assert values[0][0] == 4 and values[0][1] == b"value-4"
    # Beyond the high watermark is an error for that partition.
    bad = admin.delete_records([TopicPartition("trimmed", 0, 99)])[TopicPartition("trimmed", 0, 99)]
    try:
        bad.result(30)
        raise AssertionError("deleting past the high watermark must fail")
    except Exception as error:  # KafkaException(OFFSET_OUT_OF_RANGE)
        assert "OFFSET_OUT_OF_RANGE" in str(error)


def test_describe_log_dirs_reports_partition_sizes(broker):
    produce(broker.bootstrap, "sized", 5)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        response = admin.describe_log_dirs()
    finally:
        admin.close()
    text = str(response)
    assert str(broker.data_dir) in text
    assert "sized" in text


def test_kcat_query_offsets_by_time(broker):
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for index, timestamp in enumerate([1_000, 2_000, 3_000]):
        producer.produce("timed", value=f"v{index}".encode(), partition=0, timestamp=timestamp)
    assert producer.flush(30) == 0
    result = subprocess.run(["kcat", "-b", broker.bootstrap, "-Q", "-t", "timed:0:1500"], capture_output=True, text=True, timeout=30)
    assert "timed [0] offset 1" in result.stdout, result.stdout + result.stderr
