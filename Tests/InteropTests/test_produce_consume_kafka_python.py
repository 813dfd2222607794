"""kafka-python (3.x, pure Python with python-snappy, lz4 and zstandard) against the real `brook` binary.

kafka-python 3 turns idempotence on by default and Brook does not serve InitProducerId yet, so the
producers here set enable_idempotence=False. Consumers use assign() with no group_id and never commit.
"""
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import MessageSizeTooLargeError
from kafka.partitioner.default import murmur2

from conftest import wait_until
from records_support import (
    CODEC_IDS, CODECS, CREATE_TIME, LOG_APPEND_TIME, TIMEOUT, Record, compressible_value, consume, create_topic, now_ms,
    produce_all, producer, segment_batches,
)

KAFKA_PYTHON_CODECS = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def kp_producer(broker, **config) -> KafkaProducer:
    settings = {"bootstrap_servers": broker.bootstrap, "enable_idempotence": False, "acks": "all",
                "request_timeout_ms": int(TIMEOUT * 1000)}
    settings.update(config)
    return KafkaProducer(**settings)


def kp_consumer(broker, **config) -> KafkaConsumer:
    settings = {"bootstrap_servers": broker.bootstrap, "group_id": None, "enable_auto_commit": False,
                "auto_offset_reset": "none", "request_timeout_ms": int(TIMEOUT * 1000) + 5000}
    settings.update(config)
    return KafkaConsumer(**settings)


def from_kafka_python(record) -> Record:
    return Record(
        record.partition, record.offset, record.key, record.value, tuple(record.headers),
        {0: CREATE_TIME, 1: LOG_APPEND_TIME}[record.timestamp_type], record.timestamp,
    )


def kp_poll(client: KafkaConsumer, count: int, timeout: float = TIMEOUT) -> list[Record]:
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(records) < count:
        if time.monotonic() >= deadline:
            raise AssertionError(f"only {len(records)} of {count} records arrived")
        for batch in client.poll(timeout_ms=500, max_records=count - len(records)).values():
            records.extend(from_kafka_python(record) for record in batch)
    return records


def kp_consume(broker, topic: str, partition: int = 0, start: int | None = None, count: int | None = None) -> list[Record]:
    """Reads from `start` (default: the beginning) up to the end offset, with assign() and seek."""
    client = kp_consumer(broker)
    try:
        tp = TopicPartition(topic, partition)
        client.assign([tp])
        if start is None:
            client.seek_to_beginning(tp)
            start = client.beginning_offsets([tp])[tp]
        else:
            client.seek(tp, start)
        if count is None:
            count = client.end_offsets([tp])[tp] - start
        return kp_poll(client, count)
    finally:
        client.close()


def kp_end_offset(broker, topic: str, partition: int = 0) -> int:
    client = kp_consumer(broker)
    try:
        tp = TopicPartition(topic, partition)
        return client.end_offsets([tp])[tp]
    finally:
        client.close()


def send_all(client: KafkaProducer, topic: str, messages: list[dict]) -> list:
    futures = [client.send(topic, **message) for message in messages]
    client.flush(timeout=TIMEOUT)
    return [future.get(timeout=TIMEOUT) for future in futures]


HEADERS = [("trace", b"kp-1"), ("empty", b""), ("dup", b"a"), ("dup", b"b")]


@pytest.mark.parametrize("codec", CODECS)
def test_kafka_python_round_trips_every_codec(broker, codec):
    topic = f"kp-{codec}"
    create_topic(broker, topic)
    base = now_ms() - 30_000
    client = kp_producer(broker, compression_type=KAFKA_PYTHON_CODECS[codec], linger_ms=50)
    try:
        metadata = send_all(client, topic, [
            {"key": f"key-{i}".encode(), "value": compressible_value(i), "headers": HEADERS, "timestamp_ms": base + i}
            for i in range(300)
        ])
    finally:
        client.close()
    assert [(m.partition, m.offset, m.timestamp) for m in metadata] == [(0, i, base + i) for i in range(300)]

    assert kp_consume(broker, topic) == [
        Record(0, i, f"key-{i}".encode(), compressible_value(i), tuple(HEADERS), CREATE_TIME, base + i) for i in range(300)
    ]
    batches = segment_batches(broker, topic)
    assert [b.codec for b in batches] == [CODEC_IDS[codec]] * len(batches)
    assert sum(b.record_count for b in batches) == 300


@pytest.mark.parametrize("acks", [0, 1])
def test_kafka_python_acks_zero_and_one(broker, acks):
    topic = f"kp-acks-{acks}"
    create_topic(broker, topic)
    client = kp_producer(broker, acks=acks)
    try:
        metadata = send_all(client, topic, [{"value": f"v{i}".encode(), "timestamp_ms": 50 + i} for i in range(20)])
    finally:
        client.close()
    if acks == 1:
        assert [m.offset for m in metadata] == list(range(20))
    # acks=0 gets no response: kafka-python then reports offsets counted from 0 in each batch, whatever the log says.
    wait_until(lambda: kp_end_offset(broker, topic) == 20, timeout=TIMEOUT, message="all 20 records appended")
    assert kp_consume(broker, topic, count=20) == [
        Record(0, i, None, f"v{i}".encode(), (), CREATE_TIME, 50 + i) for i in range(20)
    ]


def test_kafka_python_null_keys_and_tombstones(broker):
    create_topic(broker, "kp-nulls")
    client = kp_producer(broker, compression_type="gzip")
    try:
        send_all(client, "kp-nulls", [
            {"key": b"k", "value": None, "timestamp_ms": 1},
            {"key": None, "value": b"v", "timestamp_ms": 2},
            {"key": b"", "value": b"", "timestamp_ms": 3},
            {"key": b"h", "value": None, "headers": [("h", b"")], "timestamp_ms": 4},
        ])
    finally:
        client.close()
    assert kp_consume(broker, "kp-nulls") == [
        Record(0, 0, b"k", None, (), CREATE_TIME, 1),
        Record(0, 1, None, b"v", (), CREATE_TIME, 2),
        Record(0, 2, b"", b"", (), CREATE_TIME, 3),
        Record(0, 3, b"h", None, (("h", b""),), CREATE_TIME, 4),
    ]


def test_kafka_python_keyed_records_follow_the_default_partitioner(broker):
    create_topic(broker, "kp-keyed", partitions=3)
    keys = [f"user-{i % 11}".encode() for i in range(120)]
    client = kp_producer(broker)
    try:
        metadata = send_all(client, "kp-keyed", [{"key": k, "value": str(i).encode(), "timestamp_ms": i} for i, k in enumerate(keys)])
    finally:
        client.close()
    assert [m.partition for m in metadata] == [(murmur2(k) & 0x7FFFFFFF) % 3 for k in keys]
    for partition in range(3):
        sent = [i for i, m in enumerate(metadata) if m.partition == partition]
        assert [metadata[i].offset for i in sent] == list(range(len(sent)))
        assert kp_consume(broker, "kp-keyed", partition) == [
            Record(partition, n, keys[i], str(i).encode(), (), CREATE_TIME, i) for n, i in enumerate(sent)
        ]


def test_kafka_python_offset_queries(broker):
    create_topic(broker, "kp-offsets", partitions=2)
    timestamps = [1_000, 4_000, 2_000, 4_000, 7_000]
    client = kp_producer(broker, linger_ms=100)
    try:
        send_all(client, "kp-offsets", [{"value": f"t{ts}".encode(), "timestamp_ms": ts, "partition": 0} for ts in timestamps])
    finally:
        client.close()
    p0, p1 = TopicPartition("kp-offsets", 0), TopicPartition("kp-offsets", 1)
    consumer = kp_consumer(broker)
    try:
        assert consumer.beginning_offsets([p0, p1]) == {p0: 0, p1: 0}
        assert consumer.end_offsets([p0, p1]) == {p0: 5, p1: 0}

        def lookup(target: int):
            found = consumer.offsets_for_times({p0: target})[p0]
            return None if found is None else (found.offset, found.timestamp)

        # The first offset whose timestamp is >= the target, with that record's timestamp; None past the end.
        assert {t: lookup(t) for t in [0, 1_000, 1_001, 3_000, 4_000, 4_001, 7_000, 7_001]} == {
            0: (0, 1_000), 1_000: (0, 1_000), 1_001: (1, 4_000), 3_000: (1, 4_000), 4_000: (1, 4_000),
            4_001: (4, 7_000), 7_000: (4, 7_000), 7_001: None,
        }
        assert consumer.offsets_for_times({p1: 0}) == {p1: None}
    finally:
        consumer.close()


def test_kafka_python_seeks_inside_a_batch_and_to_the_end(broker):
    create_topic(broker, "kp-seek")
    client = kp_producer(broker, linger_ms=1_000)
    try:
        assert client.partitions_for("kp-seek") == {0}  # metadata first, so the ten records form one batch
        send_all(client, "kp-seek", [{"key": f"k{i}".encode(), "value": f"v{i}".encode(), "timestamp_ms": 10 + i} for i in range(10)])
    finally:
        client.close()
    assert [(b.base_offset, b.record_count) for b in segment_batches(broker, "kp-seek")] == [(0, 10)]

    def expected(offsets):
        return [Record(0, o, f"k{o}".encode(), f"v{o}".encode(), (), CREATE_TIME, 10 + o) for o in offsets]

    assert kp_consume(broker, "kp-seek", start=4) == expected(range(4, 10))
    tp = TopicPartition("kp-seek", 0)
    consumer = kp_consumer(broker)
    try:
        consumer.assign([tp])
        consumer.seek(tp, 7)
        assert kp_poll(consumer, 2) == expected([7, 8])
        consumer.seek_to_beginning(tp)
        assert kp_poll(consumer, 1) == expected([0])
        consumer.seek_to_end(tp)
        assert consumer.position(tp) == 10
        assert consumer.poll(timeout_ms=300) == {}
        late = kp_producer(broker)
        try:
            send_all(late, "kp-seek", [{"key": b"k10", "value": b"v10", "timestamp_ms": 20}])
        finally:
            late.close()
        assert kp_poll(consumer, 1) == expected([10])
    finally:
        consumer.close()


def test_kafka_python_sees_log_append_time(broker):
    create_topic(broker, "kp-append", config={"message.timestamp.type": "LogAppendTime"})
    before = now_ms()
    client = kp_producer(broker)
    try:
        metadata = send_all(client, "kp-append", [{"value": b"a", "timestamp_ms": 5}, {"value": b"b", "timestamp_ms": 6}])
    finally:
        client.close()
    after = now_ms()
    assert all(before <= m.timestamp <= after for m in metadata), metadata
    records = kp_consume(broker, "kp-append")
    assert [(r.offset, r.value, r.timestamp_type) for r in records] == [(0, b"a", LOG_APPEND_TIME), (1, b"b", LOG_APPEND_TIME)]
    assert [r.timestamp for r in records] == [m.timestamp for m in metadata]


def test_kafka_python_batch_larger_than_max_message_bytes_is_refused(broker):
    create_topic(broker, "kp-small", config={"max.message.bytes": "1024"})
    client = kp_producer(broker)
    try:
        with pytest.raises(MessageSizeTooLargeError):
            client.send("kp-small", value=b"x" * 2_000).get(timeout=TIMEOUT)
        assert client.send("kp-small", value=b"ok").get(timeout=TIMEOUT).offset == 0
    finally:
        client.close()
    assert [(r.offset, r.value) for r in kp_consume(broker, "kp-small")] == [(0, b"ok")]


# Across clients

def test_kafka_python_reads_what_librdkafka_wrote(broker):
    create_topic(broker, "cross-to-kp")
    headers = (("null", None), ("x", b"1"))
    for codec in CODECS:
        reports = produce_all(producer(broker, {"compression.type": codec, "linger.ms": 50}), "cross-to-kp", [
            {"key": codec.encode(), "value": compressible_value(i), "headers": list(headers), "timestamp": 1_000 + i}
            for i in range(40)
        ])
        assert all(r.error is None for r in reports)
    expected = [
        Record(0, n * 40 + i, codec.encode(), compressible_value(i), headers, CREATE_TIME, 1_000 + i)
        for n, codec in enumerate(CODECS) for i in range(40)
    ]
    assert kp_consume(broker, "cross-to-kp") == expected
    assert kp_consume(broker, "cross-to-kp", start=57) == expected[57:]


def test_librdkafka_reads_what_kafka_python_wrote(broker):
    create_topic(broker, "cross-to-cf")
    metadata = []
    for codec in CODECS:
        client = kp_producer(broker, compression_type=KAFKA_PYTHON_CODECS[codec], linger_ms=50)
        try:
            metadata += send_all(client, "cross-to-cf", [
                {"key": codec.encode(), "value": compressible_value(i), "headers": HEADERS, "timestamp_ms": 2_000 + i}
                for i in range(40)
            ])
        finally:
            client.close()
    assert [m.offset for m in metadata] == list(range(200))
    assert {b.codec for b in segment_batches(broker, "cross-to-cf")} == set(CODEC_IDS.values())
    expected = [
        Record(0, n * 40 + i, codec.encode(), compressible_value(i), tuple(HEADERS), CREATE_TIME, 2_000 + i)
        for n, codec in enumerate(CODECS) for i in range(40)
    ]
    assert consume(broker, "cross-to-cf") == expected
    assert consume(broker, "cross-to-cf", start=123) == expected[123:]
