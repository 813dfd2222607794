"""confluent-kafka (librdkafka) producing to and consuming from the real `brook` binary.

Consumers here use assign() and never commit (groups are tested in test_consumer_groups_*.py). Every record that
comes back is compared whole (partition, offset, key, value, headers, timestamp type and time).
"""
import threading
import time

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING, OFFSET_END, TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, KafkaError, KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import OffsetSpec
from kafka.partitioner.default import murmur2

import kafka_wire
from conftest import wait_until
from records_support import (
    CODEC_IDS, CODECS, CREATE_TIME, LOG_APPEND_TIME, TIMEOUT, Record, admin_client, compressible_value, consume, consumer,
    create_topic, fetch_v4, now_ms, parse_batches, poll_records, produce_all, produce_one_batch, producer, segment_batches,
    watermarks,
)

HEADERS = (("trace", b"t-1"), ("null", None), ("empty", b""), ("dup", b"a"), ("dup", b"b"), ("bin", bytes(range(256))))


def message(index: int, timestamp: int, **extra) -> dict:
    return {"key": f"key-{index}".encode(), "value": compressible_value(index), "headers": list(HEADERS),
            "timestamp": timestamp, **extra}


# Producer: codecs, acks, delivery reports

@pytest.mark.parametrize("acks", ["0", "1", "all"])
@pytest.mark.parametrize("codec", CODECS)
def test_confluent_round_trips_every_codec_and_acks(broker, codec, acks):
    topic = f"cf-{codec}-{acks}"
    create_topic(broker, topic)
    base = now_ms() - 60_000
    messages = [message(i, base + i) for i in range(500)]
    reports = produce_all(producer(broker, {"compression.type": codec, "acks": acks}), topic, messages)

    assert all(report.error is None for report in reports), reports
    if acks == "0":
        # No response: librdkafka cannot know the offsets (confluent-kafka shows None).
        assert {report.offset for report in reports} == {None}
    else:
        assert [report.offset for report in reports] == list(range(500))
    assert [(r.timestamp_type, r.timestamp) for r in reports] == [(TIMESTAMP_CREATE_TIME, base + i) for i in range(500)]

    # With acks=0 the last batches may still be on their way when the reports arrive.
    wait_until(lambda: watermarks(broker, topic) == (0, 500), timeout=TIMEOUT, message="all 500 records appended")
    records = consume(broker, topic)
    assert records == [
        Record(0, i, f"key-{i}".encode(), compressible_value(i), HEADERS, CREATE_TIME, base + i) for i in range(500)
    ]
    assert watermarks(broker, topic) == (0, 500)


@pytest.mark.parametrize("codec", [
    "none", "gzip", "snappy", "lz4", "zstd",
])
def test_confluent_batches_are_stored_with_the_requested_codec(broker, codec):
    topic = f"cf-codec-{codec}"
    create_topic(broker, topic)
    produce_all(producer(broker, {"compression.type": codec}), topic, [message(i, 1_000 + i) for i in range(200)])
    batches = segment_batches(broker, topic)
    assert batches
    assert [batch.codec for batch in batches] == [CODEC_IDS[codec]] * len(batches)
    assert [(b.magic, b.log_append_time) for b in batches] == [(2, False)] * len(batches)
    assert sum(b.record_count for b in batches) == 200


def test_confluent_log_append_time_replaces_the_producers_timestamps(broker):
    create_topic(broker, "cf-append-time", config={"message.timestamp.type": "LogAppendTime"})
    before = now_ms()
    reports = produce_all(producer(broker, {"acks": "all", "linger.ms": 100}), "cf-append-time",
                          [message(i, 1_000 + i) for i in range(50)])
    after = now_ms()
    assert all(r.error is None for r in reports)
    assert [r.offset for r in reports] == list(range(50))
    assert {r.timestamp_type for r in reports} == {TIMESTAMP_LOG_APPEND_TIME}
    assert all(before <= r.timestamp <= after for r in reports), reports

    records = consume(broker, "cf-append-time")
    by_offset = {r.offset: r for r in reports}
    assert records == [
        Record(0, i, f"key-{i}".encode(), compressible_value(i), HEADERS, LOG_APPEND_TIME, by_offset[i].timestamp)
        for i in range(50)
    ]
    batches = segment_batches(broker, "cf-append-time")
    assert all(batch.log_append_time for batch in batches)
    # Every record of a batch carries the batch's append time.
    assert {r.timestamp for r in records} == {batch.max_timestamp for batch in batches}


def test_confluent_timestamps_outside_the_allowed_window_are_refused(broker):
    create_topic(broker, "cf-window", config={"message.timestamp.before.max.ms": "60000"})
    now = now_ms()
    client = producer(broker, {"linger.ms": 0})
    # One at a time: a batch holding one bad timestamp is refused whole.
    reports = [
        report
        for value, timestamp in [(b"now", now), (b"ancient", 1_000), (b"future", now + 2 * 3_600_000)]
        for report in produce_all(client, "cf-window", [{"value": value, "timestamp": timestamp}])
    ]
    assert [(r.value, r.error) for r in reports] == [
        (b"now", None), (b"ancient", KafkaError.INVALID_TIMESTAMP), (b"future", KafkaError.INVALID_TIMESTAMP),
    ]
    assert [(r.offset, r.value, r.timestamp) for r in consume(broker, "cf-window")] == [(0, b"now", now)]

    # LogAppendTime topics ignore the producer's timestamp, so nothing is out of range.
    create_topic(broker, "cf-window-append", config={"message.timestamp.type": "LogAppendTime"})
    reports = produce_all(producer(broker), "cf-window-append", [{"value": b"future", "timestamp": now + 2 * 3_600_000}])
    assert [(r.offset, r.error, r.timestamp_type) for r in reports] == [(0, None, TIMESTAMP_LOG_APPEND_TIME)]


def test_confluent_headers_null_keys_and_tombstones(broker):
    create_topic(broker, "cf-nulls")
    messages = [
        {"key": None, "value": b"no key", "timestamp": 10},
        {"key": b"k", "value": None, "timestamp": 11},
        {"key": None, "value": None, "timestamp": 12},
        {"key": b"", "value": b"", "timestamp": 13},
        {"key": b"h", "value": b"v", "headers": [("only-null", None)], "timestamp": 14},
        {"key": b"h", "value": b"v", "headers": [("", b"empty-name"), ("dup", b"1"), ("dup", None), ("dup", b"3")],
         "timestamp": 15},
        {"key": bytes(range(256)), "value": bytes(range(255, -1, -1)), "headers": list(HEADERS), "timestamp": 16},
    ]
    reports = produce_all(producer(broker, {"acks": "all", "compression.type": "zstd"}), "cf-nulls", messages)
    assert [(r.offset, r.error) for r in reports] == [(i, None) for i in range(7)]
    assert consume(broker, "cf-nulls") == [
        Record(0, 0, None, b"no key", (), CREATE_TIME, 10),
        Record(0, 1, b"k", None, (), CREATE_TIME, 11),
        Record(0, 2, None, None, (), CREATE_TIME, 12),
        Record(0, 3, b"", b"", (), CREATE_TIME, 13),
        Record(0, 4, b"h", b"v", (("only-null", None),), CREATE_TIME, 14),
        Record(0, 5, b"h", b"v", (("", b"empty-name"), ("dup", b"1"), ("dup", None), ("dup", b"3")), CREATE_TIME, 15),
        Record(0, 6, bytes(range(256)), bytes(range(255, -1, -1)), HEADERS, CREATE_TIME, 16),
    ]


def test_confluent_keyed_records_land_on_their_partitions(broker):
    create_topic(broker, "cf-keyed", partitions=4)
    keys = [f"customer-{i % 13}".encode() for i in range(400)]
    reports = produce_all(producer(broker, {"partitioner": "murmur2", "acks": "all"}), "cf-keyed", [
        {"key": key, "value": f"{i}".encode(), "timestamp": 5_000 + i} for i, key in enumerate(keys)
    ] + [{"key": b"pinned", "value": b"explicit", "partition": 3, "timestamp": 9_999}])
    assert all(r.error is None for r in reports)
    # Java's default partitioner: murmur2 of the key, made positive, modulo the partition count.
    expected_partitions = [(murmur2(key) & 0x7FFFFFFF) % 4 for key in keys] + [3]
    assert [r.partition for r in reports] == expected_partitions
    assert len(set(expected_partitions)) == 4, "the keys should spread over every partition"

    for partition in range(4):
        sent = [(i, r) for i, r in enumerate(reports) if r.partition == partition]
        records = consume(broker, "cf-keyed", partition)
        assert [r.offset for _, r in sent] == list(range(len(sent)))
        assert records == [
            Record(partition, n, keys[i] if i < 400 else b"pinned", r.value, (), CREATE_TIME, 5_000 + i if i < 400 else 9_999)
            for n, (i, r) in enumerate(sent)
        ]
        assert watermarks(broker, "cf-keyed", partition) == (0, len(sent))


# Consumer: assign, offsets, seeking

def produce_numbered(broker, topic: str, count: int, base_timestamp: int = 100_000, **config) -> None:
    reports = produce_all(producer(broker, {"acks": "all", **config}), topic, [
        {"key": f"k{i}".encode(), "value": f"v{i}".encode(), "timestamp": base_timestamp + i} for i in range(count)
    ])
    assert [(r.offset, r.error) for r in reports] == [(i, None) for i in range(count)]


def numbered(offsets, base_timestamp: int = 100_000, partition: int = 0) -> list[Record]:
    return [Record(partition, o, f"k{o}".encode(), f"v{o}".encode(), (), CREATE_TIME, base_timestamp + o) for o in offsets]


def test_confluent_assign_from_beginning_an_offset_and_the_end(broker):
    create_topic(broker, "cf-assign")
    produce_numbered(broker, "cf-assign", 30, **{"linger.ms": 200})
    assert consume(broker, "cf-assign", start=OFFSET_BEGINNING) == numbered(range(30))
    assert consume(broker, "cf-assign", start=17) == numbered(range(17, 30))
    assert consume(broker, "cf-assign", start=29) == numbered([29])

    client = consumer(broker)
    try:
        client.assign([TopicPartition("cf-assign", 0, OFFSET_END)])
        assert client.consume(10, timeout=1.0) == []
        reports = produce_all(producer(broker), "cf-assign", [{"key": b"late", "value": b"after", "timestamp": 7}])
        assert [r.offset for r in reports] == [30]
        assert poll_records(client, 1) == [Record(0, 30, b"late", b"after", (), CREATE_TIME, 7)]
    finally:
        client.close()


def test_confluent_watermarks(broker):
    create_topic(broker, "cf-marks", partitions=3)
    assert [watermarks(broker, "cf-marks", p) for p in range(3)] == [(0, 0)] * 3
    produce_all(producer(broker), "cf-marks", [{"value": b"x", "partition": p} for p in [0, 2, 2, 2]])
    assert [watermarks(broker, "cf-marks", p) for p in range(3)] == [(0, 1), (0, 0), (0, 3)]
    client = consumer(broker)
    try:
        low, high = client.get_watermark_offsets(TopicPartition("cf-marks", 2), timeout=TIMEOUT)
        assert (low, high) == (0, 3)
        with pytest.raises(KafkaException) as raised:
            client.get_watermark_offsets(TopicPartition("cf-marks", 7), timeout=TIMEOUT)
        assert raised.value.args[0].code() == KafkaError._UNKNOWN_PARTITION  # librdkafka checks metadata first
    finally:
        client.close()


def test_confluent_offsets_for_times(broker):
    create_topic(broker, "cf-times", partitions=2)
    # Two batches on partition 0 (timestamps out of order inside each), nothing on partition 1.
    first = [1_000, 3_000, 2_000, 3_000]
    second = [2_500, 6_000, 5_000]
    for timestamps in (first, second):
        reports = produce_one_batch(broker, "cf-times", [
            {"value": f"t{ts}".encode(), "timestamp": ts, "partition": 0} for ts in timestamps
        ])
        assert all(r.error is None for r in reports)
    assert [b.record_count for b in segment_batches(broker, "cf-times")] == [4, 3]

    client = consumer(broker)
    try:
        def lookup(target: int, partition: int = 0) -> int:
            [answer] = client.offsets_for_times([TopicPartition("cf-times", partition, target)], timeout=TIMEOUT)
            assert answer.error is None
            return answer.offset

        # The first offset whose timestamp is >= the target; -1 (end) when none is.
        assert {t: lookup(t) for t in [0, 1_000, 1_500, 2_000, 2_600, 3_000, 3_001, 5_500, 6_000, 6_001]} == {
            0: 0, 1_000: 0, 1_500: 1, 2_000: 1, 2_600: 1, 3_000: 1, 3_001: 5, 5_500: 5, 6_000: 5, 6_001: OFFSET_END,
        }
        assert lookup(0, partition=1) == OFFSET_END
    finally:
        client.close()


def test_confluent_seeks_backwards_and_forwards(broker):
    create_topic(broker, "cf-seek")
    produce_numbered(broker, "cf-seek", 40)
    client = consumer(broker)
    try:
        client.assign([TopicPartition("cf-seek", 0, 10)])
        assert poll_records(client, 5) == numbered(range(10, 15))
        client.seek(TopicPartition("cf-seek", 0, 2))
        assert poll_records(client, 3) == numbered(range(2, 5))
        client.seek(TopicPartition("cf-seek", 0, 37))
        assert poll_records(client, 3) == numbered(range(37, 40))
        assert client.position([TopicPartition("cf-seek", 0)])[0].offset == 40
    finally:
        client.close()


def test_confluent_fetch_beyond_the_end_is_out_of_range(broker):
    create_topic(broker, "cf-range")
    produce_numbered(broker, "cf-range", 10)
    client = consumer(broker, {"auto.offset.reset": "error"})
    try:
        client.assign([TopicPartition("cf-range", 0, 25)])
        deadline = time.monotonic() + TIMEOUT
        errors = []
        while not errors and time.monotonic() < deadline:
            errors = [m.error() for m in client.consume(1, timeout=1.0) if m.error() is not None]
        assert errors and errors[0].code() == KafkaError._AUTO_OFFSET_RESET, errors
        assert "Offset out of range" in errors[0].str()
    finally:
        client.close()
    # With a reset policy the consumer starts over from the earliest offset.
    assert consume(broker, "cf-range", start=25, count=10, config={"auto.offset.reset": "earliest"}) == numbered(range(10))


def test_confluent_refuses_a_batch_larger_than_max_message_bytes(broker):
    create_topic(broker, "cf-small", config={"max.message.bytes": "1024"})
    reports = produce_all(producer(broker, {"linger.ms": 0}), "cf-small", [{"value": b"x" * 2_000}])
    assert [r.error for r in reports] == [KafkaError.MSG_SIZE_TOO_LARGE]
    reports = produce_all(producer(broker, {"linger.ms": 0}), "cf-small", [{"value": b"y" * 500}])
    assert [(r.offset, r.error) for r in reports] == [(0, None)]
    assert [(r.offset, r.value) for r in consume(broker, "cf-small")] == [(0, b"y" * 500)]


# Volume and long poll

def test_confluent_twenty_thousand_records_arrive_complete_and_in_order(broker):
    create_topic(broker, "cf-bulk")
    count = 20_000
    values = [f"{i:08d}".encode() + b"." * 92 for i in range(count)]
    reports = produce_all(producer(broker, {"acks": "all", "linger.ms": 20, "compression.type": "zstd"}), "cf-bulk",
                          [{"value": value, "timestamp": 1_000_000 + i} for i, value in enumerate(values)], timeout=120)
    assert [(r.offset, r.error) for r in reports] == [(i, None) for i in range(count)]
    assert watermarks(broker, "cf-bulk") == (0, count)
    records = consume(broker, "cf-bulk", timeout=120)
    assert len(records) == count
    assert records == [Record(0, i, None, values[i], (), CREATE_TIME, 1_000_000 + i) for i in range(count)]
    batches = segment_batches(broker, "cf-bulk")
    assert len(batches) > 1
    assert sum(b.record_count for b in batches) == count


def test_confluent_consumer_waiting_at_the_end_receives_a_later_record(broker):
    create_topic(broker, "cf-long-poll")
    produce_numbered(broker, "cf-long-poll", 3)
    # A long max wait: without a wake-up on append the record would only come up to 10 s later.
    client = consumer(broker, {"fetch.wait.max.ms": 10_000, "socket.timeout.ms": 60_000})
    try:
        client.assign([TopicPartition("cf-long-poll", 0, 0)])
        assert poll_records(client, 3) == numbered(range(3))
        assert client.consume(1, timeout=0.5) == []
        produced_at = time.monotonic()
        produce_all(producer(broker, {"linger.ms": 0}), "cf-long-poll", [{"key": b"k3", "value": b"v3", "timestamp": 100_003}])
        assert poll_records(client, 1, timeout=15) == numbered([3])
        assert time.monotonic() - produced_at < 5
    finally:
        client.close()


def test_fetch_long_poll_waits_for_max_wait_and_wakes_on_append(broker):
    create_topic(broker, "raw-long-poll")
    produce_numbered(broker, "raw-long-poll", 2)
    sock = kafka_wire.connect(broker.bootstrap, timeout=60)
    try:
        # Nothing to return: the broker holds the fetch for max_wait_ms, then answers empty.
        started = time.monotonic()
        empty = fetch_v4(sock, "raw-long-poll", 0, offset=2, max_wait_ms=1_500, correlation_id=1)
        held = time.monotonic() - started
        assert (empty.error_code, empty.high_watermark, empty.records) == (0, 2, b"")
        assert 1.4 <= held < 20, held

        # A record appended while the fetch waits answers it long before its 30 s are up.
        appended = threading.Event()

        def append_soon():
            produce_all(producer(broker, {"linger.ms": 0}), "raw-long-poll", [{"value": b"wake", "timestamp": 1}])
            appended.set()

        started = time.monotonic()
        writer = threading.Thread(target=append_soon)
        writer.start()
        woken = fetch_v4(sock, "raw-long-poll", 0, offset=2, max_wait_ms=30_000, correlation_id=2)
        writer.join(timeout=TIMEOUT)
        assert appended.is_set()
        assert time.monotonic() - started < 15
        assert woken.error_code == 0 and woken.high_watermark == 3
        assert [(b.base_offset, b.record_count) for b in parse_batches(woken.records)] == [(2, 1)]

        # min_bytes larger than what is there: the broker waits out max_wait, then returns what it has.
        started = time.monotonic()
        partial = fetch_v4(sock, "raw-long-poll", 0, offset=2, max_wait_ms=2_000, min_bytes=100_000, correlation_id=3)
        assert time.monotonic() - started >= 1.9
        assert [(b.base_offset, b.record_count) for b in parse_batches(partial.records)] == [(2, 1)]
    finally:
        sock.close()


def test_fetch_returns_a_first_batch_larger_than_max_bytes(broker):
    create_topic(broker, "raw-max-bytes")
    reports = produce_all(producer(broker, {"linger.ms": 100}), "raw-max-bytes", [
        {"value": compressible_value(i, 5_000), "timestamp": i} for i in range(6)
    ])
    assert [r.offset for r in reports] == list(range(6))
    batches = segment_batches(broker, "raw-max-bytes")
    sock = kafka_wire.connect(broker.bootstrap, timeout=30)
    try:
        # Far below the first batch's size: it still comes back whole, so a consumer always progresses.
        fetched = fetch_v4(sock, "raw-max-bytes", 0, offset=0, max_wait_ms=0, max_bytes=100)
        assert fetched.error_code == 0
        assert parse_batches(fetched.records) == batches[:1]
        assert len(fetched.records) == batches[0].length + 12
    finally:
        sock.close()
    # librdkafka with a partition limit far below one record reads everything too.
    records = consume(broker, "raw-max-bytes", config={"max.partition.fetch.bytes": 1_024})
    assert [(r.offset, r.value) for r in records] == [(i, compressible_value(i, 5_000)) for i in range(6)]


def test_confluent_large_values(broker):
    create_topic(broker, "cf-large")
    sizes = [100_000, 500_000, 1_000_000]
    values = [bytes([i]) * 64 + bytes(range(256)) * (size // 256) for i, size in enumerate(sizes)]
    reports = produce_all(producer(broker, {"linger.ms": 0, "message.max.bytes": 2_000_000}), "cf-large", [
        {"key": f"big-{i}".encode(), "value": value, "timestamp": 42 + i} for i, value in enumerate(values)
    ])
    assert [(r.offset, r.error) for r in reports] == [(i, None) for i in range(3)]
    assert consume(broker, "cf-large") == [
        Record(0, i, f"big-{i}".encode(), value, (), CREATE_TIME, 42 + i) for i, value in enumerate(values)
    ]


def test_confluent_consumes_many_partitions_while_they_grow(broker):
    create_topic(broker, "cf-many", partitions=6)
    per_partition = 400
    client = consumer(broker)
    try:
        client.assign([TopicPartition("cf-many", p, OFFSET_BEGINNING) for p in range(6)])
        writer = threading.Thread(target=lambda: produce_all(producer(broker, {"acks": "1"}), "cf-many", [
            {"key": f"{p}".encode(), "value": f"{p}:{i}".encode(), "partition": p, "timestamp": 3_000 + i}
            for i in range(per_partition) for p in range(6)
        ]))
        writer.start()
        records = poll_records(client, 6 * per_partition, timeout=60)
        writer.join(timeout=TIMEOUT)
    finally:
        client.close()
    for p in range(6):
        assert [r for r in records if r.partition == p] == [
            Record(p, i, f"{p}".encode(), f"{p}:{i}".encode(), (), CREATE_TIME, 3_000 + i) for i in range(per_partition)
        ]


def test_confluent_list_offsets_earliest_latest_max_timestamp_and_by_time(broker):
    create_topic(broker, "cf-list", partitions=2)
    timestamps = [5_000, 9_000, 7_000, 8_000]
    produce_all(producer(broker, {"linger.ms": 100}), "cf-list", [
        {"value": f"t{ts}".encode(), "timestamp": ts, "partition": 0} for ts in timestamps
    ])
    admin = admin_client(broker)

    def answer(spec, partition: int = 0) -> tuple[int, int]:
        tp = TopicPartition("cf-list", partition)
        info = admin.list_offsets({tp: spec}, request_timeout=TIMEOUT)[tp].result(timeout=TIMEOUT)
        return info.offset, info.timestamp

    assert answer(OffsetSpec.earliest()) == (0, -1)
    assert answer(OffsetSpec.latest()) == (4, -1)
    assert answer(OffsetSpec.max_timestamp()) == (1, 9_000)
    assert answer(OffsetSpec.for_timestamp(6_000)) == (1, 9_000)
    assert answer(OffsetSpec.for_timestamp(5_000)) == (0, 5_000)
    assert answer(OffsetSpec.for_timestamp(9_001)) == (-1, -1)
    assert answer(OffsetSpec.earliest(), partition=1) == (0, -1)
    assert answer(OffsetSpec.latest(), partition=1) == (0, -1)
    assert answer(OffsetSpec.max_timestamp(), partition=1) == (-1, -1)


# Produce validation that needs more than a batch header

def test_acks_all_below_min_insync_replicas_is_refused(broker):
    create_topic(broker, "cf-min-isr", config={"min.insync.replicas": "2"})
    strict = producer(broker, {"acks": "all", "retries": 0, "linger.ms": 0})
    assert [r.error for r in produce_all(strict, "cf-min-isr", [{"value": b"refused"}])] == [KafkaError.NOT_ENOUGH_REPLICAS]
    relaxed = producer(broker, {"acks": "1", "linger.ms": 0})
    assert [(r.offset, r.error) for r in produce_all(relaxed, "cf-min-isr", [{"value": b"kept"}])] == [(0, None)]
    assert [r.value for r in consume(broker, "cf-min-isr")] == [b"kept"]


def test_compacted_topic_refuses_records_without_keys(broker):
    create_topic(broker, "cf-compacted", config={"cleanup.policy": "compact"})
    client = producer(broker, {"retries": 0, "linger.ms": 0})
    assert [r.error for r in produce_all(client, "cf-compacted", [{"value": b"no key"}])] == [KafkaError.INVALID_RECORD]
    reports = produce_all(client, "cf-compacted", [{"key": b"k", "value": b"v"}, {"key": b"k", "value": None}])
    assert [(r.offset, r.error) for r in reports] == [(0, None), (1, None)]
    assert [(r.key, r.value) for r in consume(broker, "cf-compacted")] == [(b"k", b"v"), (b"k", None)]


def test_topic_compression_type_recompresses_batches(broker):
    create_topic(broker, "cf-topic-gzip", config={"compression.type": "gzip"})
    produce_all(producer(broker, {"compression.type": "zstd"}), "cf-topic-gzip",
                [{"value": compressible_value(i), "timestamp": i} for i in range(50)])
    assert [r.value for r in consume(broker, "cf-topic-gzip")] == [compressible_value(i) for i in range(50)]
    assert {b.codec for b in segment_batches(broker, "cf-topic-gzip")} == {CODEC_IDS["gzip"]}
