"""Records survive restarts of the real `brook` binary: clean (SIGTERM), unclean (SIGKILL), SIGKILL in
the middle of an acks=all producer, and restarts over damaged index and log files.

After every restart the partitions are read again whole with confluent-kafka (CRCs checked) and
compared record by record with what was there, or with what the producer was told.
"""
import threading
import time

from confluent_kafka import KafkaError, TopicPartition

import kafka_wire
from conftest import wait_until
from records_support import (
    CODECS, TIMEOUT, admin_client, compressible_value, consume, consumer, create_topic, fetch_v4, parse_batches, produce_all,
    producer, segment_files, send_fetch_v4, watermarks,
)


def snapshot(broker, topic: str, partitions: int) -> dict:
    """Every record of every partition, as the consumer sees them."""
    return {p: consume(broker, topic, p) for p in range(partitions)}


def produce_mixed(broker, topic: str, partitions: int, rounds: int = 1) -> int:
    """Keyed records with headers and explicit timestamps, one producer per codec; returns the count."""
    total = 0
    for _ in range(rounds):
        for codec in CODECS:
            messages = [
                {"key": f"{codec}-{i}".encode(), "value": compressible_value(total + i, 120),
                 "headers": [("codec", codec.encode()), ("null", None)], "timestamp": 1_000_000 + total + i,
                 "partition": (total + i) % partitions}
                for i in range(60)
            ]
            reports = produce_all(producer(broker, {"acks": "all", "compression.type": codec}), topic, messages)
            assert all(r.error is None for r in reports), reports
            total += len(messages)
    return total


def test_records_survive_a_clean_restart(broker):
    create_topic(broker, "durable-clean", partitions=3, config={"segment.bytes": "4096"})
    total = produce_mixed(broker, "durable-clean", 3, rounds=2)
    before = snapshot(broker, "durable-clean", 3)
    assert sum(len(records) for records in before.values()) == total

    assert broker.stop() == 0
    assert any("stopped cleanly" in line for line in broker.output)
    broker.start()
    assert snapshot(broker, "durable-clean", 3) == before
    assert [watermarks(broker, "durable-clean", p) for p in range(3)] == [(0, len(before[p])) for p in range(3)]

    # Appends continue right after the last offset.
    reports = produce_all(producer(broker), "durable-clean", [{"value": b"after", "partition": p} for p in range(3)])
    assert sorted((r.partition, r.offset) for r in reports) == [(p, len(before[p])) for p in range(3)]


def test_records_survive_kill_9(broker):
    create_topic(broker, "durable-killed", partitions=2, config={"segment.bytes": "4096"})
    total = produce_mixed(broker, "durable-killed", 2)
    before = snapshot(broker, "durable-killed", 2)
    assert sum(len(records) for records in before.values()) == total

    broker.kill()
    broker.start()
    assert snapshot(broker, "durable-killed", 2) == before

    reports = produce_all(producer(broker), "durable-killed", [{"value": b"after", "partition": p} for p in range(2)])
    assert sorted((r.partition, r.offset) for r in reports) == [(p, len(before[p])) for p in range(2)]
    broker.kill()
    broker.start()
    after = snapshot(broker, "durable-killed", 2)
    assert {p: records[:-1] for p, records in after.items()} == before
    assert [(records[-1].offset, records[-1].value) for records in after.values()] == [
        (len(before[p]), b"after") for p in range(2)
    ]


def test_deleted_records_stay_deleted_after_a_clean_restart(broker):
    create_topic(broker, "durable-trimmed", config={"segment.bytes": "2048"})
    reports = produce_all(producer(broker), "durable-trimmed", [
        {"value": compressible_value(i, 100), "timestamp": 1_000 + i} for i in range(100)
    ])
    assert [r.offset for r in reports] == list(range(100))
    before = consume(broker, "durable-trimmed")
    tp = TopicPartition("durable-trimmed", 0, 37)
    admin = admin_client(broker)
    deleted = admin.delete_records([tp], request_timeout=TIMEOUT)[tp].result(timeout=TIMEOUT)
    assert deleted.low_watermark == 37

    for restarted in (False, True):
        if restarted:
            assert broker.stop() == 0
            broker.start()
        assert watermarks(broker, "durable-trimmed") == (37, 100)
        assert consume(broker, "durable-trimmed") == before[37:]
        client = consumer(broker)
        try:
            # Timestamps before the log start map to the log start.
            [found] = client.offsets_for_times([TopicPartition("durable-trimmed", 0, 0)], timeout=TIMEOUT)
            assert found.offset == 37
        finally:
            client.close()
        # Below the log start is out of range.
        out_of_range = consumer(broker, {"auto.offset.reset": "error"})
        try:
            out_of_range.assign([TopicPartition("durable-trimmed", 0, 10)])
            deadline = time.monotonic() + TIMEOUT
            errors = []
            while not errors and time.monotonic() < deadline:
                errors = [m.error() for m in out_of_range.consume(1, timeout=1.0) if m.error() is not None]
            assert errors and errors[0].code() == KafkaError._AUTO_OFFSET_RESET, errors
        finally:
            out_of_range.close()


class ContinuousProducer:
    """Produces numbered records with acks=all from a thread and remembers every delivery report.

    Retries are off, so a record is written at most once by the client: any duplicate in the log
    comes from the broker.
    """

    MAX_PENDING = 5_000

    def __init__(self, broker, topic: str, partitions: int):
        self.topic = topic
        self.partitions = partitions
        self.client = producer(broker, {
            "acks": "all", "linger.ms": 2, "retries": 0, "message.timeout.ms": 60_000,
            "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200, "compression.type": "zstd",
        })
        self.acknowledged: dict[bytes, tuple[int, int]] = {}
        self.failed: dict[bytes, int] = {}
        self.produced = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _delivered(self, error, message) -> None:
        if error is None:
            self.acknowledged[message.value()] = (message.partition(), message.offset())
        else:
            self.failed[message.value()] = error.code()

    def _run(self) -> None:
        while not self.stopping.is_set():
            if self.produced - len(self.acknowledged) - len(self.failed) >= self.MAX_PENDING:
                self.client.poll(0.05)
                continue
            value = f"{self.produced:09d}".encode()
            try:
                self.client.produce(self.topic, value=value, key=b"k" + value, partition=self.produced % self.partitions,
                                    on_delivery=self._delivered)
                self.produced += 1
            except BufferError:
                self.client.poll(0.05)
            self.client.poll(0)
        deadline = time.monotonic() + 90
        while len(self.client) > 0 and time.monotonic() < deadline:
            self.client.poll(0.2)

    def wait_for_acknowledgements(self, count: int) -> None:
        wait_until(lambda: len(self.acknowledged) >= count, timeout=60, message=f"{count} acknowledged records")

    def finish(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the producer did not drain"
        assert len(self.client) == 0


def test_kill_9_during_acks_all_production_loses_no_acknowledged_record(broker):
    partitions = 2
    create_topic(broker, "durable-acked", partitions=partitions, config={"segment.bytes": "65536"})
    writer = ContinuousProducer(broker, "durable-acked", partitions)
    writer.start()
    try:
        for _ in range(3):
            writer.wait_for_acknowledgements(len(writer.acknowledged) + 1_500)
            broker.kill()
            broker.start()
        # The producer carries on against the restarted broker.
        writer.wait_for_acknowledgements(len(writer.acknowledged) + 1_000)
    finally:
        writer.finish()

    acknowledged = dict(writer.acknowledged)
    assert acknowledged and set(acknowledged).isdisjoint(writer.failed)
    assert len(acknowledged) + len(writer.failed) == writer.produced
    log = snapshot(broker, "durable-acked", partitions)
    stored: dict[tuple[int, int], bytes] = {}
    for partition, records in log.items():
        assert [r.offset for r in records] == list(range(len(records)))
        for record in records:
            # Nothing in between is corrupt or foreign: each record is one the producer sent, where it sent it.
            assert record.key == b"k" + record.value
            assert int(record.value) < writer.produced
            assert int(record.value) % partitions == partition
            stored[(partition, record.offset)] = record.value
    values = list(stored.values())
    assert len(values) == len(set(values)), "a record was stored twice"
    missing = {value: place for value, place in acknowledged.items() if stored.get(place) != value}
    assert not missing, f"{len(missing)} acknowledged records are not at their offsets: {sorted(missing.items())[:10]}"


def test_restart_rebuilds_deleted_index_files(broker):
    config = {"segment.bytes": "8192", "index.interval.bytes": "256"}
    create_topic(broker, "durable-index", config=config)
    count = 1_500
    reports = produce_all(producer(broker, {"acks": "all", "linger.ms": 1, "batch.num.messages": 20}), "durable-index", [
        {"key": f"k{i}".encode(), "value": compressible_value(i, 100), "timestamp": 10_000 + 2 * i} for i in range(count)
    ])
    assert [r.offset for r in reports] == list(range(count))
    before = consume(broker, "durable-index")
    logs = segment_files(broker, "durable-index")
    assert len(logs) >= 6, "expected several segments"

    assert broker.stop() == 0
    # An older segment loses its offset index, another its time index, the active one both.
    damaged = [logs[1].with_suffix(".index"), logs[3].with_suffix(".timeindex"),
               logs[-1].with_suffix(".index"), logs[-1].with_suffix(".timeindex")]
    for path in damaged:
        path.unlink()
    broker.start()

    assert consume(broker, "durable-index") == before
    # Start positions inside the segments whose indexes went missing need an index lookup.
    for log in (logs[1], logs[3], logs[-1]):
        batches = parse_batches(log.read_bytes())
        start = (batches[0].base_offset + batches[-1].last_offset) // 2
        expected = before[start:start + 5]
        assert consume(broker, "durable-index", start=start, count=len(expected)) == expected
    client = consumer(broker)
    try:
        for offset in [0, int(logs[3].stem) + 3, count - 1]:
            [found] = client.offsets_for_times([TopicPartition("durable-index", 0, 10_000 + 2 * offset - 1)], timeout=TIMEOUT)
            assert found.offset == offset
    finally:
        client.close()
    assert all(path.exists() for path in damaged), "index files are rebuilt at start-up"

    # And the log keeps growing where it ended.
    reports = produce_all(producer(broker), "durable-index", [{"value": b"next"}])
    assert [r.offset for r in reports] == [count]


def test_restart_after_kill_9_without_the_active_index(broker):
    create_topic(broker, "durable-index-killed", config={"segment.bytes": "8192", "index.interval.bytes": "256"})
    reports = produce_all(producer(broker, {"acks": "all", "batch.num.messages": 10}), "durable-index-killed", [
        {"value": compressible_value(i, 80), "timestamp": 500 + i} for i in range(600)
    ])
    assert [r.offset for r in reports] == list(range(600))
    before = consume(broker, "durable-index-killed")
    broker.kill()
    for path in segment_files(broker, "durable-index-killed", suffix=".index"):
        path.unlink()
    broker.start()
    assert consume(broker, "durable-index-killed") == before
    assert consume(broker, "durable-index-killed", start=433, count=7) == before[433:440]


def test_unclean_restart_cuts_a_torn_write(broker):
    create_topic(broker, "durable-torn")
    reports = produce_all(producer(broker, {"acks": "all", "linger.ms": 50}), "durable-torn", [
        {"key": f"k{i}".encode(), "value": compressible_value(i), "timestamp": 77_000 + i} for i in range(100)
    ])
    assert [r.offset for r in reports] == list(range(100))
    before = consume(broker, "durable-torn")
    broker.kill()

    [active] = segment_files(broker, "durable-torn")
    intact = active.read_bytes()
    batches = parse_batches(intact)
    assert batches[-1].last_offset == 99
    # The start of a copy of the last batch, claiming the next offsets, as a crash mid-write leaves it.
    last_start = len(intact) - (batches[-1].length + 12)
    torn = bytearray(intact[last_start:last_start + 40])
    torn[0:8] = (100).to_bytes(8, "big")
    with active.open("ab") as file:
        file.write(bytes(torn))
    broker.start()

    assert consume(broker, "durable-torn") == before
    assert watermarks(broker, "durable-torn") == (0, 100)
    assert active.stat().st_size == len(intact)
    reports = produce_all(producer(broker), "durable-torn", [{"value": b"after the tear", "timestamp": 1}])
    assert [r.offset for r in reports] == [100]
    assert consume(broker, "durable-torn", start=99) == before[99:] + consume(broker, "durable-torn", start=100)
    assert [r.value for r in consume(broker, "durable-torn", start=100)] == [b"after the tear"]


def test_sigterm_is_not_held_up_by_a_parked_fetch(broker):
    """Kafka's shutdown closes connections and drops waiting fetches: a clean stop never waits out a long poll."""
    create_topic(broker, "parked")
    parked = kafka_wire.connect(broker.bootstrap, timeout=60)
    other = kafka_wire.connect(broker.bootstrap, timeout=60)
    try:
        send_fetch_v4(parked, "parked", 0, offset=0, max_wait_ms=15_000)
        # A fetch sent later on another connection that waits out 500 ms: by its answer, the first is parked.
        assert fetch_v4(other, "parked", 0, offset=0, max_wait_ms=500).records == b""
        started = time.monotonic()
        status = broker.stop(timeout=60)
        stopped_after = time.monotonic() - started
    finally:
        parked.close()
        other.close()
    assert status == 0
    assert any("stopped cleanly" in line for line in broker.output)
    assert stopped_after < 5, f"the broker took {stopped_after:.1f} s to stop"
