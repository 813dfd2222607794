"""Numbers no honest client sends, through the real broker: each is answered or refused, and the
broker keeps running (issue 13: Swift traps where Java wraps)."""
import struct
import time

from kafka.record.legacy_records import LegacyRecordBatchBuilder

import kafka_wire
from conftest import wait_until
from records_support import consume, create_topic


def string(text: str) -> bytes:
    encoded = text.encode()
    return struct.pack(">h", len(encoded)) + encoded


def call(broker, api_key: int, version: int, body: bytes) -> bytes:
    """Sends one request and returns the response body after the correlation id."""
    sock = kafka_wire.connect(broker.bootstrap)
    try:
        sock.sendall(kafka_wire.request_frame(api_key, version, 11, body))
        response = kafka_wire.read_frame(sock)
    finally:
        sock.close()
    assert struct.unpack(">i", response[:4])[0] == 11
    return response[4:]


def legacy_set(offsets: list[int]) -> bytes:
    builder = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 20)
    for index, offset in enumerate(offsets):
        builder.append(offset, timestamp=int(time.time() * 1000), key=None, value=b"v%d" % index)
    return bytes(builder.build())


def produce_v2(broker, topic: str, records: bytes) -> tuple[int, int]:
    body = struct.pack(">hi", 1, 5000) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", len(records)) + records
    response = call(broker, 0, 2, body)
    # topics[1]: name, partitions[1]: index, error, base offset, log append time; then throttle.
    position = 4 + 2 + len(topic.encode()) + 4
    _, error, base_offset, _ = struct.unpack(">ihqq", response[position:position + 22])
    return error, base_offset


def offset_commit(broker, version: int, group: str, topic: str, offset: int,
                  retention_ms: int = -1, commit_timestamp: int = -1) -> int:
    body = string(group) + struct.pack(">i", -1) + string("")
    if version >= 2:
        body += struct.pack(">q", retention_ms)
    body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) + struct.pack(">iq", 0, offset)
    if version == 1:
        body += struct.pack(">q", commit_timestamp)
    body += string("")
    response = call(broker, 8, version, body)
    position = 4 + 2 + len(topic.encode()) + 4
    _, error = struct.unpack(">ih", response[position:position + 6])
    return error


def offset_fetch_v1(broker, group: str, topic: str) -> int:
    body = string(group) + struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) + struct.pack(">i", 0)
    response = call(broker, 9, 1, body)
    position = 4 + 2 + len(topic.encode()) + 4
    _, offset = struct.unpack(">iq", response[position:position + 12])
    return offset


def test_legacy_producer_offsets_jumping_past_int32_are_ignored(broker):
    create_topic(broker, "legacy-jumps")
    offsets = [0, 2**31 - 1, 2**32 + 5, 3, 2**63 - 1]
    assert produce_v2(broker, "legacy-jumps", legacy_set(offsets)) == (0, 0)
    assert broker.is_running()
    records = consume(broker, "legacy-jumps", count=len(offsets))
    assert [r.offset for r in records] == list(range(len(offsets)))
    assert [r.value for r in records] == [b"v%d" % i for i in range(len(offsets))]


def test_offset_commit_retention_near_int64_max_never_expires(broker_factory):
    broker = broker_factory("offsets.retention.check.interval.ms=200")
    create_topic(broker, "retained")
    for version, group in [(2, "g2"), (3, "g3"), (4, "g4")]:
        assert offset_commit(broker, version, group, "retained", 42, retention_ms=2**63 - 1) == 0
    assert offset_commit(broker, 1, "g1", "retained", 43, commit_timestamp=2**63 - 1) == 0
    # An offset committed "in 1970" expires at the next pass: once it is gone, a pass has run over
    # the others too. The same after a restart, which replays them.
    expire_pass(broker, "old-1", "retained")
    assert broker.is_running()
    broker.restart()
    expire_pass(broker, "old-2", "retained")
    assert offset_fetch_v1(broker, "g1", "retained") == 43
    for group in ["g2", "g3", "g4"]:
        assert offset_fetch_v1(broker, group, "retained") == 42
    assert broker.is_running()


def expire_pass(broker, group: str, topic: str) -> None:
    assert offset_commit(broker, 1, group, topic, 7, commit_timestamp=1) == 0
    wait_until(lambda: offset_fetch_v1(broker, group, topic) == -1, timeout=15, message="an expiry pass")
