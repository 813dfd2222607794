"""Old protocol versions against the real `brook` binary, through kafka-python with a pinned api_version.

api_version=(0, 10, 1) makes kafka-python send Produce v2 with magic 1 message sets and Fetch v3
(down-converted to magic 1 by the broker); api_version=(0, 9) sends Produce v1 with magic 0 and
Fetch v1 (magic 0: no timestamps). Mixed tests cross new (confluent-kafka, v2 batches) and old clients.
"""
import struct
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

import kafka_wire
from records_support import TIMEOUT, consume, create_topic, now_ms, produce_all, producer

OLD_VERSIONS = {"magic1": (0, 10, 1), "magic0": (0, 9)}


def old_producer(broker, api_version, **config) -> KafkaProducer:
    settings = {"bootstrap_servers": broker.bootstrap, "api_version": api_version, "acks": 1,
                "request_timeout_ms": int(TIMEOUT * 1000), "linger_ms": 5}
    settings.update(config)
    return KafkaProducer(**settings)


def old_consume(broker, api_version, topic: str, count: int) -> list:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             request_timeout_ms=int(TIMEOUT * 1000) + 5000)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        records = []
        deadline = now_ms() + int(TIMEOUT * 1000)
        while len(records) < count and now_ms() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def messages(count: int, base_ts: int):
    return [(f"key-{i}".encode() if i % 3 else None, f"value-{i}".encode() * (i % 5 + 1), base_ts + i)
            for i in range(count)]


def topic_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("label", OLD_VERSIONS)
@pytest.mark.parametrize("codec", [None, "gzip", "snappy", "lz4"])
def test_old_produce_old_consume(broker, label, codec):
    api_version = OLD_VERSIONS[label]
    topic = topic_name(f"old-{label}")
    create_topic(broker, topic)
    sent = messages(30, now_ms() - 1000)
    client = old_producer(broker, api_version, compression_type=codec)
    try:
        futures = [client.send(topic, key=k, value=v, partition=0, timestamp_ms=ts) for k, v, ts in sent]
        client.flush(timeout=TIMEOUT)
        metadata = [f.get(timeout=TIMEOUT) for f in futures]
    finally:
        client.close()
    assert sorted(m.offset for m in metadata) == list(range(30))

    got = old_consume(broker, api_version, topic, len(sent))
    assert [r.offset for r in got] == list(range(30))
    assert [(r.key, r.value) for r in got] == [(k, v) for k, v, _ in sent]
    if label == "magic1":
        assert [r.timestamp for r in got] == [ts for _, _, ts in sent]
    else:
        assert all(r.timestamp in (-1, None) for r in got)

    # A new client sees the same records in v2 batches.
    new = consume(broker, topic)
    assert [(r.key, r.value) for r in new] == [(k, v) for k, v, _ in sent]
    if label == "magic1":
        assert [r.timestamp for r in new] == [ts for _, _, ts in sent]


@pytest.mark.parametrize("label", OLD_VERSIONS)
def test_new_produce_old_consume(broker, label):
    topic = topic_name(f"new-old-{label}")
    create_topic(broker, topic)
    base = now_ms() - 1000
    sent = [{"key": f"k{i}".encode(), "value": f"v{i}".encode(), "timestamp": base + i,
             "headers": [("h", b"x")]} for i in range(20)]
    client = producer(broker, {"compression.type": "zstd"})
    produce_all(client, topic, [dict(m, partition=0) for m in sent])
    got = old_consume(broker, OLD_VERSIONS[label], topic, len(sent))
    assert [r.offset for r in got] == list(range(20))
    assert [(r.key, r.value) for r in got] == [(m["key"], m["value"]) for m in sent]
    if label == "magic1":
        assert [r.timestamp for r in got] == [m["timestamp"] for m in sent]


def test_old_produce_new_consume_after_new_records(broker):
    topic = topic_name("mixed")
    create_topic(broker, topic)
    base = now_ms() - 1000
    produce_all(producer(broker), topic, [{"key": b"new-0", "value": b"n0", "timestamp": base, "partition": 0}])
    client = old_producer(broker, OLD_VERSIONS["magic1"], compression_type="gzip")
    try:
        for i in range(1, 6):
            client.send(topic, key=f"old-{i}".encode(), value=f"o{i}".encode(), partition=0, timestamp_ms=base + i)
        client.flush(timeout=TIMEOUT)
    finally:
        client.close()
    new = consume(broker, topic)
    assert [r.offset for r in new] == list(range(6))
    assert [r.key for r in new] == [b"new-0"] + [f"old-{i}".encode() for i in range(1, 6)]
    assert [r.timestamp for r in new] == [base + i for i in range(6)]
    old = old_consume(broker, OLD_VERSIONS["magic0"], topic, 6)
    assert [r.key for r in old] == [r.key for r in new]


def list_offsets_v0(broker, topic: str, timestamp: int, max_num_offsets: int) -> tuple[int, list[int]]:
    """ListOffsets v0 for partition 0: (error code, old-style offsets)."""
    name = topic.encode()
    body = struct.pack(">ii", -1, 1) + struct.pack(">h", len(name)) + name
    body += struct.pack(">iiqi", 1, 0, timestamp, max_num_offsets)
    sock = kafka_wire.connect(broker.bootstrap)
    try:
        sock.sendall(kafka_wire.request_frame(2, 0, 5, body))
        frame = kafka_wire.read_frame(sock)
    finally:
        sock.close()
    correlation, topics = struct.unpack_from(">ii", frame, 0)
    assert (correlation, topics) == (5, 1)
    (name_length,) = struct.unpack_from(">h", frame, 8)
    position = 10 + name_length
    partitions, _index, error, count = struct.unpack_from(">iihi", frame, position)
    assert partitions == 1
    offsets = list(struct.unpack_from(f">{count}q", frame, position + 14))
    return error, offsets


def test_list_offsets_v0_answers_up_to_max_num_offsets_newest_first(broker):
    """ListOffsets v0 (what 0.8-era consumers and tools sent): latest is the log end offset, then the
    base offsets of the segments, newest first, up to max_num_offsets; earliest is the start."""
    topic = topic_name("v0-offsets")
    create_topic(broker, topic, config={"segment.bytes": "200"})
    client = producer(broker)
    for index in range(8):
        client.produce(topic, value=bytes(100) + str(index).encode(), partition=0)
        client.flush(TIMEOUT)

    error, latest = list_offsets_v0(broker, topic, -1, 100)
    assert error == 0
    assert latest[0] == 8 and latest[-1] == 0 and len(latest) > 2
    assert latest == sorted(set(latest), reverse=True)
    assert list_offsets_v0(broker, topic, -1, 2) == (0, latest[:2])
    assert list_offsets_v0(broker, topic, -2, 100) == (0, [0])
    assert list_offsets_v0(broker, topic, now_ms() + 3_600_000, 100) == (0, latest)
    assert list_offsets_v0(broker, topic, 0, 100) == (0, [])
