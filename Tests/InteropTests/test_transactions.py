"""The partition side of transactions against the real `brook` binary: transactional batches written
with raw Produce frames (producer ids from InitProducerId), COMMIT and ABORT markers written with
WriteTxnMarkers as a transaction coordinator would, and confluent-kafka consumers reading with
isolation.level read_committed (only committed records, nothing past the last stable offset) and
read_uncommitted (every data record)."""
import struct

from confluent_kafka import KafkaError, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaPythonTopicPartition

import kafka_wire
from producer_wire import batch, init_producer_id, produce
from records_support import TIMEOUT, consumer, create_topic, now_ms

TOPIC = "txn-markers"


def transactional_batch(producer_id: int, epoch: int, sequence: int, values: list[bytes]) -> bytes:
    return batch(producer_id, epoch, sequence, values, transactional=True, timestamp=now_ms())


def plain_batch(values: list[bytes]) -> bytes:
    return batch(-1, -1, -1, values, timestamp=now_ms())


def write_txn_markers(broker, markers: list[tuple[int, int, bool]], topic: str, partition: int = 0) -> list[tuple[int, int]]:
    """WriteTxnMarkers v0, one marker per (producer id, epoch, commit) for `topic`/`partition`, at
    coordinator epoch 0: [(producer id, error code)]."""
    name = topic.encode()
    body = struct.pack(">i", len(markers))
    for producer_id, epoch, commit in markers:
        body += struct.pack(">qhb", producer_id, epoch, 1 if commit else 0)
        body += struct.pack(">ih", 1, len(name)) + name + struct.pack(">ii", 1, partition)
        body += struct.pack(">i", 0)  # coordinator epoch
    sock = kafka_wire.connect(broker.bootstrap)
    try:
        sock.sendall(kafka_wire.request_frame(27, 0, 9, body))
        frame = kafka_wire.read_frame(sock)
    finally:
        sock.close()
    correlation, count = struct.unpack_from(">ii", frame, 0)
    assert correlation == 9
    position, results = 8, []
    for _ in range(count):
        producer_id, topics = struct.unpack_from(">qi", frame, position)
        position += 12
        assert topics == 1
        (name_length,) = struct.unpack_from(">h", frame, position)
        position += 2 + name_length
        (partitions,) = struct.unpack_from(">i", frame, position)
        position += 4
        assert partitions == 1
        _index, error = struct.unpack_from(">ih", frame, position)
        position += 6
        results.append((producer_id, error))
    return results


def read_to_end(broker, isolation: str) -> list[tuple[int, bytes]]:
    """(offset, value) of every record a consumer with `isolation` gets from the beginning until it
    reaches the end of the partition (the last stable offset for read_committed)."""
    client = consumer(broker, {"isolation.level": isolation, "enable.partition.eof": True})
    try:
        client.assign([TopicPartition(TOPIC, 0, 0)])
        records = []
        while True:
            message = client.poll(TIMEOUT)
            assert message is not None, f"no end of partition after {records}"
            if message.error() is not None:
                assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                return records
            records.append((message.offset(), message.value()))
    finally:
        client.close()


def read_to_end_kafka_python(broker, isolation: str) -> list[tuple[int, bytes]]:
    """The same with kafka-python, which stops at the end offset it was told (LSO or high watermark)."""
    client = KafkaConsumer(bootstrap_servers=broker.bootstrap, isolation_level=isolation, enable_auto_commit=False,
                           consumer_timeout_ms=5_000)
    try:
        partition = KafkaPythonTopicPartition(TOPIC, 0)
        client.assign([partition])
        client.seek_to_beginning(partition)
        return [(record.offset, record.value) for record in client]
    finally:
        client.close()


def offsets(broker, isolation: str) -> tuple[int, int]:
    """ListOffsets earliest and latest as a consumer with `isolation` asks (latest: the high
    watermark, or the last stable offset for read_committed; librdkafka defaults to the latter)."""
    client = consumer(broker, {"isolation.level": isolation})
    try:
        return client.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=TIMEOUT, cached=False)
    finally:
        client.close()


def test_read_committed_sees_committed_records_and_nothing_past_the_last_stable_offset(broker):
    create_topic(broker, TOPIC)
    committer, committer_epoch = init_producer_id(broker)
    aborter, aborter_epoch = init_producer_id(broker)
    assert produce(broker, TOPIC, transactional_batch(committer, committer_epoch, 0, [b"c1", b"c2"])) == (0, 0)
    assert produce(broker, TOPIC, transactional_batch(aborter, aborter_epoch, 0, [b"a1"])) == (0, 2)
    assert produce(broker, TOPIC, transactional_batch(committer, committer_epoch, 2, [b"c3"])) == (0, 3)
    assert produce(broker, TOPIC, plain_batch([b"plain"])) == (0, 4)

    # Both transactions are open: the last stable offset is the first one's first offset.
    assert offsets(broker, "read_uncommitted") == (0, 5)
    assert offsets(broker, "read_committed") == (0, 0)
    assert read_to_end(broker, "read_committed") == []
    assert [v for _, v in read_to_end(broker, "read_uncommitted")] == [b"c1", b"c2", b"a1", b"c3", b"plain"]

    results = write_txn_markers(broker, [(committer, committer_epoch, True), (aborter, aborter_epoch, False)], TOPIC)
    assert results == [(committer, 0), (aborter, 0)]
    assert offsets(broker, "read_uncommitted") == (0, 7)
    assert offsets(broker, "read_committed") == (0, 7)
    committed = [(0, b"c1"), (1, b"c2"), (3, b"c3"), (4, b"plain")]
    assert read_to_end(broker, "read_committed") == committed
    assert [v for _, v in read_to_end(broker, "read_uncommitted")] == [b"c1", b"c2", b"a1", b"c3", b"plain"]
    assert read_to_end_kafka_python(broker, "read_committed") == committed
    assert [v for _, v in read_to_end_kafka_python(broker, "read_uncommitted")] == [b"c1", b"c2", b"a1", b"c3", b"plain"]

    # The aborted-transaction index and the producer state come back after kill -9.
    broker.kill()
    broker.start()
    assert read_to_end(broker, "read_committed") == committed
    assert offsets(broker, "read_committed") == (0, 7)


def test_an_open_transaction_holds_back_later_records_until_its_marker(broker):
    create_topic(broker, TOPIC)
    producer_id, epoch = init_producer_id(broker)
    assert produce(broker, TOPIC, plain_batch([b"before"])) == (0, 0)
    assert produce(broker, TOPIC, transactional_batch(producer_id, epoch, 0, [b"t1"])) == (0, 1)
    assert produce(broker, TOPIC, plain_batch([b"after"])) == (0, 2)
    assert read_to_end(broker, "read_committed") == [(0, b"before")]
    # A restart keeps the transaction open (snapshot on a clean stop).
    broker.restart()
    assert read_to_end(broker, "read_committed") == [(0, b"before")]
    assert write_txn_markers(broker, [(producer_id, epoch, False)], TOPIC) == [(producer_id, 0)]
    assert read_to_end(broker, "read_committed") == [(0, b"before"), (2, b"after")]


def test_a_timestamp_lookup_under_read_committed_stops_at_the_last_stable_offset(broker):
    """ListOffsets by timestamp with isolation.level read_committed (librdkafka's offsets_for_times)
    answers no offset for a record at or past the last stable offset, as Kafka does."""
    create_topic(broker, TOPIC)
    producer_id, epoch = init_producer_id(broker)
    base = now_ms()
    assert produce(broker, TOPIC, batch(-1, -1, -1, [b"before"], timestamp=base - 10_000)) == (0, 0)
    assert produce(broker, TOPIC, batch(producer_id, epoch, 0, [b"open"], transactional=True, timestamp=base - 5_000)) == (0, 1)

    def lookup(isolation: str, timestamp: int) -> int:
        client = consumer(broker, {"isolation.level": isolation})
        try:
            return client.offsets_for_times([TopicPartition(TOPIC, 0, timestamp)], timeout=TIMEOUT)[0].offset
        finally:
            client.close()

    assert lookup("read_committed", base - 20_000) == 0
    assert lookup("read_committed", base - 7_000) == -1
    assert lookup("read_uncommitted", base - 7_000) == 1
    assert write_txn_markers(broker, [(producer_id, epoch, True)], TOPIC) == [(producer_id, 0)]
    assert lookup("read_committed", base - 7_000) == 1
