"""The log cleaner compacts a cleanup.policy=compact topic as a consumer sees it."""
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import wait_until
from transactions_support import FAST_TIMEOUTS, transactional_producer


def read_all(bootstrap: str, topic: str, timeout: float = 10.0, isolation: str = "read_uncommitted"):
    """Every (offset, key, value) of partition 0 from the beginning to the high watermark, as a
    consumer with `isolation` reads it."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "compaction-reader", "enable.auto.commit": False,
        "enable.partition.eof": True, "isolation.level": isolation,
    })
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        records = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.offset() >= high - 1 or (records and records[-1][0] >= high - 1):
                    break
                continue
            records.append((message.offset(), message.key(), message.value()))
            if message.offset() >= high - 1:
                break
        return records, high
    finally:
        consumer.close()


def test_compacted_topic_keeps_the_latest_value_per_key(broker_factory):
    broker = broker_factory("log.cleaner.backoff.ms=100")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = {
        "cleanup.policy": "compact", "segment.bytes": "1024", "min.cleanable.dirty.ratio": "0.01",
        "file.delete.delay.ms": "0",
    }
    admin.create_topics([NewTopic("compacted", 1, 1, config=configs)])["compacted"].result(30)

    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    latest = {}
    for round in range(5):
        for key in range(10):
            value = f"value-{round}-{key}".encode()
            producer.produce("compacted", key=f"k{key}".encode(), value=value, partition=0)
            producer.flush(10)
            latest[f"k{key}".encode()] = value
    # Distinct keys after them push every k* record out of the active segment.
    for index in range(30):
        producer.produce("compacted", key=f"filler{index}".encode(), value=b"f" * 40, partition=0)
        producer.flush(10)
    assert producer.flush(30) == 0

    def compacted():
        records, high = read_all(broker.bootstrap, "compacted")
        keyed = [record for record in records if record[1].startswith(b"k")]
        return high == 80 and len(keyed) == 10 and (records, keyed)

    records, keyed = wait_until(compacted, timeout=30, interval=0.2, message="the cleaner to compact the k* keys")
    assert {key: value for _, key, value in keyed} == latest
    # Each kept record is the last one written for its key, at its original offset.
    assert sorted(offset for offset, _, _ in keyed) == list(range(40, 50))
    # Every filler survives (unique keys).
    assert len([record for record in records if record[1].startswith(b"filler")]) == 30


def test_compaction_keeps_committed_values_over_aborted_ones(broker_factory):
    """A transactional producer commits k=v1 then aborts k=v2 on a compacted topic: once cleaned,
    the aborted write is gone for every reader and read_committed still sees k=v1 (an aborted
    write must not shadow the committed value in the cleaner's offset map)."""
    broker = broker_factory("log.cleaner.backoff.ms=100", *FAST_TIMEOUTS)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = {
        "cleanup.policy": "compact", "segment.bytes": "1024", "min.cleanable.dirty.ratio": "0.01",
        "file.delete.delay.ms": "0",
    }
    admin.create_topics([NewTopic("compacted-txn", 1, 1, config=configs)])["compacted-txn"].result(30)

    client = transactional_producer(broker, "compaction-txn")
    for value, commit in [(b"v1", True), (b"v2", False)]:
        client.begin_transaction()
        client.produce("compacted-txn", key=b"k", value=value, partition=0)
        client.flush(30)
        client.commit_transaction(30) if commit else client.abort_transaction(30)
    # Distinct keys after them push both transactions out of the active segment.
    plain = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for index in range(30):
        plain.produce("compacted-txn", key=f"filler{index}".encode(), value=b"f" * 40, partition=0)
        plain.flush(10)
    assert plain.flush(30) == 0

    def cleaned():
        records, _ = read_all(broker.bootstrap, "compacted-txn")
        values = [value for _, key, value in records if key == b"k"]
        return values == [b"v1"] and records
    records = wait_until(cleaned, timeout=30, interval=0.2, message="the cleaner to drop the aborted k=v2")
    assert len([record for record in records if record[1].startswith(b"filler")]) == 30

    committed, _ = read_all(broker.bootstrap, "compacted-txn", isolation="read_committed")
    assert [value for _, key, value in committed if key == b"k"] == [b"v1"]
    assert len([record for record in committed if record[1].startswith(b"filler")]) == 30
