"""kcat (librdkafka 2.0) producing to and consuming from the real `brook` binary.

Every record that comes back is compared whole: partition, offset, key, value, headers,
timestamp type and timestamp. Segment files are read to check what reached the disk.
"""
import json
import re

import pytest

import kafka_wire
from records_support import (
    CODEC_IDS, CODECS, CREATE_TIME, Record, compressible_value, create_topic, fetch_v4, kcat, kcat_consume, now_ms,
    parse_batches, produce_all, produce_one_batch, producer, segment_batches, watermarks,
)

HEADER_ARGS = ["-H", "trace=abc-123", "-H", "empty=", "-H", "nothing", "-H", "dup=1", "-H", "dup=2", "-H", "eq=a=b"]
HEADERS = (("trace", b"abc-123"), ("empty", b""), ("nothing", None), ("dup", b"1"), ("dup", b"2"), ("eq", b"a=b"))


def kcat_produce(broker, topic: str, lines: list[bytes], *args: str) -> tuple[int, int]:
    """Pipes `lines` into kcat -P; returns the wall-clock window (ms) around the produce."""
    before = now_ms()
    result = kcat(broker, "-P", "-t", topic, *args, input=b"\n".join(lines) + b"\n")
    after = now_ms()
    assert result.returncode == 0, result.stderr.decode()
    return before, after


def assert_create_times(records: list[Record], before: int, after: int) -> None:
    for record in records:
        assert record.timestamp_type == CREATE_TIME
        assert before <= record.timestamp <= after, (record, before, after)


def produce_codec_records(broker, topic: str, codec: str) -> tuple[list[bytes], list[bytes], int, int]:
    create_topic(broker, topic, partitions=3)
    values = [compressible_value(i) for i in range(300)]
    keys = [f"key-{i % 7}".encode() for i in range(300)]
    before, after = kcat_produce(
        broker, topic, [key + b":" + value for key, value in zip(keys, values)],
        "-p", "1", "-K:", "-z", codec, *HEADER_ARGS,
    )
    return keys, values, before, after


@pytest.mark.parametrize("codec", CODECS)
def test_kcat_round_trips_keys_values_and_headers_with_every_codec(broker, codec):
    topic = f"kcat-{codec}"
    keys, values, before, after = produce_codec_records(broker, topic, codec)

    records = kcat_consume(broker, topic, 1)
    assert_create_times(records, before, after)
    assert records == [
        Record(1, offset, keys[offset], values[offset], HEADERS, CREATE_TIME, records[offset].timestamp)
        for offset in range(300)
    ]
    # The explicit partition got everything; the others stayed empty.
    assert [watermarks(broker, topic, partition) for partition in range(3)] == [(0, 0), (0, 300), (0, 0)]

    batches = segment_batches(broker, topic, 1)
    assert sum(batch.record_count for batch in batches) == 300
    assert batches[0].base_offset == 0 and batches[-1].last_offset == 299
    assert all(b.base_offset == a.last_offset + 1 for a, b in zip(batches, batches[1:]))




# gzip and snappy rely on ApiVersions listing Produce v0: librdkafka < 2.10 (kcat's 2.0.2) compresses them
# only then (librdkafka #4956; Kafka 4 keeps advertising Produce v0 for this reason, KAFKA-18659).
@pytest.mark.parametrize("codec", [
    "none", "gzip", "snappy", "lz4", "zstd",
])
def test_kcat_batches_are_stored_with_the_requested_codec(broker, codec):
    produce_codec_records(broker, f"kcat-codec-{codec}", codec)
    batches = segment_batches(broker, f"kcat-codec-{codec}", 1)
    assert batches, "no batch on disk"
    assert [batch.codec for batch in batches] == [CODEC_IDS[codec]] * len(batches)


def test_kcat_tombstones_and_null_keys(broker):
    before, after = kcat_produce(broker, "kcat-nulls", [b"gone:", b"kept:value", b":", b":no-key"], "-K:", "-Z")
    records = kcat_consume(broker, "kcat-nulls")
    assert_create_times(records, before, after)
    assert [(r.offset, r.key, r.value, r.headers) for r in records] == [
        (0, b"gone", None, ()), (1, b"kept", b"value", ()), (2, None, None, ()), (3, None, b"no-key", ()),
    ]


def test_kcat_offsets_inside_a_batch(broker):
    create_topic(broker, "kcat-mid")
    before = now_ms()
    reports = produce_one_batch(broker, "kcat-mid", [{"key": f"k{i}".encode(), "value": f"v{i}".encode()} for i in range(10)])
    after = now_ms()
    assert [(r.offset, r.error) for r in reports] == [(i, None) for i in range(10)]
    batches = segment_batches(broker, "kcat-mid")
    assert [(b.base_offset, b.last_offset, b.record_count) for b in batches] == [(0, 9, 10)], "expected one batch"

    def expected(offsets):
        return [(o, f"k{o}".encode(), f"v{o}".encode()) for o in offsets]

    def read(offset: str, *extra: str):
        records = kcat_consume(broker, "kcat-mid", 0, offset, *extra)
        assert_create_times(records, before, after)
        return [(r.offset, r.key, r.value) for r in records]

    assert read("beginning") == expected(range(10))
    assert read("4") == expected(range(4, 10))
    assert read("9") == expected([9])
    assert read("-3") == expected(range(7, 10))
    assert read("4", "-c", "2") == expected([4, 5])
    assert read("end") == []
    assert read("10") == []


def test_fetch_from_inside_a_batch_returns_the_whole_batch(broker):
    create_topic(broker, "raw-mid")
    produce_one_batch(broker, "raw-mid", [{"value": f"v{i}".encode()} for i in range(10)])
    assert [(b.base_offset, b.last_offset) for b in segment_batches(broker, "raw-mid")] == [(0, 9)]
    sock = kafka_wire.connect(broker.bootstrap, timeout=30)
    try:
        fetched = fetch_v4(sock, "raw-mid", 0, offset=4, max_wait_ms=0)
    finally:
        sock.close()
    assert fetched.error_code == 0
    assert fetched.high_watermark == 10
    assert [(b.base_offset, b.last_offset) for b in parse_batches(fetched.records)] == [(0, 9)]


def test_kcat_exits_at_the_end_of_an_empty_partition(broker):
    create_topic(broker, "kcat-empty")
    assert kcat_consume(broker, "kcat-empty") == []


def test_kcat_queries_offsets_for_times(broker):
    create_topic(broker, "kcat-times")
    timestamps = [1_000, 2_000, 2_000, 5_000, 4_000, 9_000]
    reports = produce_all(producer(broker, {"linger.ms": 200}), "kcat-times", [
        {"value": f"v{i}".encode(), "timestamp": ts} for i, ts in enumerate(timestamps)
    ])
    assert [(r.offset, r.error) for r in reports] == [(i, None) for i in range(6)]

    def query(target: int) -> int:
        result = kcat(broker, "-Q", "-t", f"kcat-times:0:{target}")
        assert result.returncode == 0, result.stderr.decode()
        match = re.search(r"kcat-times \[0\] offset (-?\d+)", result.stdout.decode())
        assert match, result.stdout.decode()
        return int(match.group(1))

    # The first offset whose timestamp is >= the target, or -1 (end) when there is none.
    assert [query(t) for t in [0, 1_000, 1_001, 2_000, 3_000, 4_500, 5_000, 5_001, 9_000, 9_001]] == [
        0, 0, 1, 1, 3, 3, 3, 5, 5, -1,
    ]
    started = kcat_consume(broker, "kcat-times", 0, "s@4500")
    assert [(r.offset, r.value, r.timestamp) for r in started] == [(3, b"v3", 5_000), (4, b"v4", 4_000), (5, b"v5", 9_000)]


def test_kcat_auto_creates_on_produce_and_lists_the_topic(broker_factory):
    broker = broker_factory("num.partitions=3")
    before, after = kcat_produce(broker, "kcat-auto", [b"hello"], "-p", "2")
    listing = kcat(broker, "-L", "-J", "-t", "kcat-auto")
    assert listing.returncode == 0, listing.stderr.decode()
    metadata = json.loads(listing.stdout)
    assert metadata["brokers"] == [{"id": 1, "name": broker.bootstrap}]
    [topic] = metadata["topics"]
    assert topic["topic"] == "kcat-auto"
    assert "error" not in topic
    assert [(p["partition"], p["leader"], p["replicas"], p["isrs"]) for p in topic["partitions"]] == [
        (partition, 1, [{"id": 1}], [{"id": 1}]) for partition in range(3)
    ]
    records = kcat_consume(broker, "kcat-auto", 2)
    assert_create_times(records, before, after)
    assert [(r.partition, r.offset, r.key, r.value) for r in records] == [(2, 0, None, b"hello")]


def test_kcat_message_larger_than_max_message_bytes_is_rejected(broker):
    create_topic(broker, "kcat-small", config={"max.message.bytes": "1024"})
    refused = kcat(broker, "-P", "-t", "kcat-small", input=b"x" * 2000 + b"\n")
    assert refused.returncode != 0
    assert "Message size too large" in refused.stderr.decode()
    assert watermarks(broker, "kcat-small") == (0, 0)
    assert segment_batches(broker, "kcat-small") == []

    # The limit applies to the batch as stored: a large value that compresses well fits.
    kcat_produce(broker, "kcat-small", [b"y" * 5000], "-z", "zstd")
    kcat_produce(broker, "kcat-small", [b"z" * 200])
    assert [(r.offset, r.value) for r in kcat_consume(broker, "kcat-small")] == [(0, b"y" * 5000), (1, b"z" * 200)]


def test_broker_message_max_bytes_applies_to_auto_created_topics(broker_factory):
    broker = broker_factory("message.max.bytes=2048")
    kcat_produce(broker, "kcat-limited", [b"fits"])
    refused = kcat(broker, "-P", "-t", "kcat-limited", input=b"x" * 3000 + b"\n")
    assert refused.returncode != 0
    assert "Message size too large" in refused.stderr.decode()
    assert [(r.offset, r.value) for r in kcat_consume(broker, "kcat-limited")] == [(0, b"fits")]
