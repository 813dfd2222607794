"""Shared helpers for the data-path interop tests (produce, fetch, list offsets, durability).

Every client's records are turned into one comparable `Record`, so a test can assert on each
offset, key, value, header and timestamp with a single equality. Segment files are read straight
from the broker's log.dirs to check what really reached the disk (batch boundaries, codecs,
timestamp types), and a raw Fetch v4 lets a test see what no client shows: whole batches and how
long the broker held a long poll.

No helper sleeps to synchronise: every loop polls against a deadline and fails when it passes.
"""
from __future__ import annotations

import json
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import (
    OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaException, Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire
from conftest import wait_until

TIMEOUT = 30.0
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CREATE_TIME = "create"
LOG_APPEND_TIME = "log_append"

Headers = tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True)
class Record:
    """One record as a consumer saw it, whichever client read it."""
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    timestamp_type: str = CREATE_TIME
    timestamp: int = -1


def now_ms() -> int:
    return int(time.time() * 1000)


def compressible_value(index: int, size: int = 200) -> bytes:
    """A value that every codec shrinks (so librdkafka does not fall back to no compression)."""
    stem = f"value-{index:06d}-".encode()
    return (stem * (size // len(stem) + 1))[:size]


# Topics

def admin_client(broker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create_topic(broker, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
    """Creates a topic with AdminClient and waits until metadata shows every partition with a leader."""
    admin = admin_client(broker)
    admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(timeout=TIMEOUT)

    def ready() -> bool:
        topic = admin.list_topics(topic=name, timeout=TIMEOUT).topics.get(name)
        return topic is not None and topic.error is None and len(topic.partitions) == partitions \
            and all(p.leader == 1 for p in topic.partitions.values())

    wait_until(ready, timeout=TIMEOUT, message=f"topic {name} with {partitions} led partitions in metadata")


# confluent-kafka

def producer(broker, config: dict | None = None) -> Producer:
    settings = {"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "enable.idempotence": False}
    settings.update(config or {})
    return Producer(settings)


@dataclass(frozen=True)
class Delivery:
    """A delivery report: where the broker put one record, or why it refused it."""
    value: bytes | None
    partition: int
    offset: int
    timestamp_type: int
    timestamp: int
    error: int | None


def produce_all(client: Producer, topic: str, messages: list[dict], timeout: float = TIMEOUT) -> list[Delivery]:
    """Produces `messages` (Producer.produce keyword arguments) and returns their delivery reports in
    the order the messages were given."""
    reports: dict[int, Delivery] = {}

    def report(index: int):
        def callback(error, message):
            timestamp_type, timestamp = message.timestamp()
            reports[index] = Delivery(
                message.value(), message.partition(), message.offset(), timestamp_type, timestamp,
                error.code() if error is not None else None,
            )
        return callback

    deadline = time.monotonic() + timeout
    for index, message in enumerate(messages):
        while True:
            try:
                client.produce(topic, on_delivery=report(index), **message)
                break
            except BufferError:
                if time.monotonic() >= deadline:
                    raise AssertionError("the producer queue stayed full")
                client.poll(0.1)
        client.poll(0)
    while len(reports) < len(messages):
        if time.monotonic() >= deadline:
            raise AssertionError(f"only {len(reports)} of {len(messages)} delivery reports arrived")
        client.flush(0.5)
    return [reports[index] for index in range(len(messages))]


def produce_one_batch(broker, topic: str, messages: list[dict], config: dict | None = None) -> list[Delivery]:
    """Produces `messages` (all for one partition) as a single batch: the producer learns the topic's
    metadata before the first message, so none waits for it, and lingers long enough to gather all."""
    client = producer(broker, {"linger.ms": 2_000, "batch.num.messages": 100_000, **(config or {})})
    client.list_topics(topic, timeout=TIMEOUT)
    return produce_all(client, topic, messages)


def consumer(broker, config: dict | None = None) -> Consumer:
    """A consumer for assign(): it never commits, but librdkafka insists on a group.id."""
    settings = {
        "bootstrap.servers": broker.bootstrap,
        "group.id": "brook-interop-assign-only",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "error",
        "check.crcs": True,
    }
    settings.update(config or {})
    return Consumer(settings)


def from_confluent(message) -> Record:
    timestamp_type, timestamp = message.timestamp()
    kind = {TIMESTAMP_CREATE_TIME: CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME: LOG_APPEND_TIME}[timestamp_type]
    return Record(
        message.partition(), message.offset(), message.key(), message.value(),
        tuple(message.headers() or ()), kind, timestamp,
    )


def poll_records(client: Consumer, count: int, timeout: float = TIMEOUT) -> list[Record]:
    """Consumes until `count` records have arrived; any error event fails the test."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(records) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"only {len(records)} of {count} records arrived")
        for message in client.consume(min(count - len(records), 10_000), timeout=min(remaining, 1.0)):
            if message.error() is not None:
                raise KafkaException(message.error())
            records.append(from_confluent(message))
    return records


def consume(broker, topic: str, partition: int = 0, start: int = OFFSET_BEGINNING, count: int | None = None,
            timeout: float = TIMEOUT, config: dict | None = None) -> list[Record]:
    """Reads `count` records (default: up to the high watermark) from `start` with assign()."""
    client = consumer(broker, config)
    try:
        if count is None:
            low, high = client.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT, cached=False)
            first = low if start == OFFSET_BEGINNING else start
            count = max(high - first, 0)
        client.assign([TopicPartition(topic, partition, start)])
        return poll_records(client, count, timeout)
    finally:
        client.close()


def watermarks(broker, topic: str, partition: int = 0) -> tuple[int, int]:
    client = consumer(broker)
    try:
        return client.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT, cached=False)
    finally:
        client.close()


# kcat

def kcat(broker, *args: str, input: bytes | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(["kcat", "-b", broker.bootstrap, *args], input=input, capture_output=True, timeout=timeout)


def kcat_consume(broker, topic: str, partition: int = 0, offset: str = "beginning", *extra: str) -> list[Record]:
    """kcat -C -J -e from `offset`; the values must be UTF-8 (they travel inside JSON)."""
    result = kcat(broker, "-C", "-J", "-e", "-t", topic, "-p", str(partition), "-o", offset, *extra)
    assert result.returncode == 0, result.stderr.decode()
    records = []
    for line in result.stdout.decode().splitlines():
        envelope = json.loads(line)
        headers = envelope.get("headers") or []
        records.append(Record(
            envelope["partition"], envelope["offset"],
            None if envelope["key"] is None else envelope["key"].encode(),
            None if envelope["payload"] is None else envelope["payload"].encode(),
            tuple((headers[i], None if headers[i + 1] is None else headers[i + 1].encode()) for i in range(0, len(headers), 2)),
            {"create": CREATE_TIME, "logappend": LOG_APPEND_TIME}[envelope["tstype"]], envelope["ts"],
        ))
    return records


# Segment files

@dataclass(frozen=True)
class Batch:
    """The header of one v2 record batch as it lies in a segment file."""
    base_offset: int
    length: int
    magic: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    record_count: int

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def codec(self) -> int:
        return self.attributes & 0x07

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & 0x08)


BATCH_HEADER = struct.Struct(">qiibIhiqqqhii")


def parse_batches(data: bytes) -> list[Batch]:
    """Batch headers in `data`, stopping at a truncated tail."""
    batches = []
    position = 0
    while position + BATCH_HEADER.size <= len(data):
        (base_offset, length, _epoch, magic, _crc, attributes, last_delta, base_ts, max_ts,
         _pid, _pepoch, _seq, count) = BATCH_HEADER.unpack_from(data, position)
        if length < BATCH_HEADER.size - 12 or position + 12 + length > len(data):
            break
        batches.append(Batch(base_offset, length, magic, attributes, last_delta, base_ts, max_ts, count))
        position += 12 + length
    return batches


def partition_dir(broker, topic: str, partition: int = 0) -> Path:
    return Path(broker.data_dir) / f"{topic}-{partition}"


def segment_files(broker, topic: str, partition: int = 0, suffix: str = ".log") -> list[Path]:
    return sorted(partition_dir(broker, topic, partition).glob(f"*{suffix}"))


def segment_batches(broker, topic: str, partition: int = 0) -> list[Batch]:
    """Every batch of the partition, across its segments in offset order."""
    batches = []
    for path in segment_files(broker, topic, partition):
        batches.extend(parse_batches(path.read_bytes()))
    return batches


# Raw Fetch v4 (frames no client lets a test inspect)

@dataclass(frozen=True)
class FetchedPartition:
    error_code: int
    high_watermark: int
    records: bytes


def send_fetch_v4(sock: socket.socket, topic: str, partition: int, offset: int, max_wait_ms: int,
                  min_bytes: int = 1, max_bytes: int = 1 << 20, correlation_id: int = 1) -> None:
    """Sends one Fetch v4 (no sessions, no topic ids) for one partition."""
    name = topic.encode()
    body = struct.pack(">iiiib", -1, max_wait_ms, min_bytes, max_bytes, 0)
    body += struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes)
    sock.sendall(kafka_wire.request_frame(1, 4, correlation_id, body))


def read_fetch_v4(sock: socket.socket, partition: int, correlation_id: int = 1) -> FetchedPartition:
    """Reads the answer to `send_fetch_v4`."""
    response = kafka_wire.read_frame(sock)
    position = 0

    def take(fmt: str):
        nonlocal position
        values = struct.unpack_from(fmt, response, position)
        position += struct.calcsize(fmt)
        return values

    (answered_id,) = take(">i")
    assert answered_id == correlation_id
    take(">i")  # throttle_time_ms
    (topics,) = take(">i")
    assert topics == 1
    (name_length,) = take(">h")
    position += name_length
    (partitions,) = take(">i")
    assert partitions == 1
    answered_partition, error_code, high_watermark, _last_stable = take(">ihqq")
    assert answered_partition == partition
    (aborted,) = take(">i")
    position += max(aborted, 0) * 16
    (size,) = take(">i")
    records = b"" if size < 0 else response[position:position + size]
    return FetchedPartition(error_code, high_watermark, records)


def fetch_v4(sock: socket.socket, topic: str, partition: int, offset: int, max_wait_ms: int,
             min_bytes: int = 1, max_bytes: int = 1 << 20, correlation_id: int = 1) -> FetchedPartition:
    """Sends one Fetch v4 for one partition and reads its answer."""
    send_fetch_v4(sock, topic, partition, offset, max_wait_ms, min_bytes, max_bytes, correlation_id)
    return read_fetch_v4(sock, partition, correlation_id)
