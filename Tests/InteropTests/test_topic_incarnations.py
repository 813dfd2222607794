"""Topic ids on disk: every partition folder holds `partition.metadata` with the id clients see,
a deleted topic's folders are renamed `-delete` and removed after log.segment.delete.delay.ms,
and a topic deleted and created again never serves its earlier incarnation's records, even when
that incarnation's folder was left behind."""
import re
import shutil
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import wait_until

TIMEOUT = 30
TOPIC = "incarnations"
DELETED = re.compile(rf"^{TOPIC}-(\d+)\.[0-9a-f]{{32}}-delete$")
STRAY = re.compile(rf"^{TOPIC}-(\d+)\.[0-9a-f]{{32}}-stray$")


def kafka_text(uuid) -> str:
    """Kafka's text form of a topic id (URL-safe base64 without padding)."""
    return str(uuid).replace("+", "-").replace("/", "_").rstrip("=")


def create(admin: AdminClient, partitions: int) -> str:
    admin.create_topics([NewTopic(TOPIC, num_partitions=partitions, replication_factor=1)])[TOPIC].result(timeout=TIMEOUT)
    description = admin.describe_topics(TopicCollection([TOPIC]))[TOPIC].result(timeout=TIMEOUT)
    return kafka_text(description.topic_id)


def delete(admin: AdminClient) -> None:
    admin.delete_topics([TOPIC], operation_timeout=TIMEOUT)[TOPIC].result(timeout=TIMEOUT)


def produce(bootstrap: str, values: list[bytes], partitions: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition in range(partitions):
        for value in values:
            producer.produce(TOPIC, value=value, partition=partition)
    assert producer.flush(TIMEOUT) == 0


def consume_all(bootstrap: str, partitions: int) -> list[bytes]:
    """Every value of every partition, from the beginning to the end each partition reports."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "incarnations-reader", "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    try:
        consumer.assign([TopicPartition(TOPIC, partition, OFFSET_BEGINNING) for partition in range(partitions)])
        values: list[bytes] = []
        at_end: set[int] = set()
        deadline = time.monotonic() + TIMEOUT
        while len(at_end) < partitions:
            assert time.monotonic() < deadline, f"only partitions {sorted(at_end)} reached their end"
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                at_end.add(message.partition())
                continue
            values.append(message.value())
        return values
    finally:
        consumer.close()


def folders(broker) -> list[str]:
    return sorted(path.name for path in broker.data_dir.iterdir())


def partition_metadata(broker, partition: int) -> str:
    return (broker.data_dir / f"{TOPIC}-{partition}" / "partition.metadata").read_text()


def test_deleted_topic_folders_go_and_the_recreated_topic_starts_empty(broker_factory):
    broker = broker_factory("log.segment.delete.delay.ms=3000")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    first = create(admin, partitions=2)
    for partition in range(2):
        assert partition_metadata(broker, partition) == f"version: 0\ntopic_id: {first}\n"
    produce(broker.bootstrap, [b"old-1", b"old-2", b"old-3"], partitions=2)
    assert sorted(consume_all(broker.bootstrap, partitions=2)) == sorted([b"old-1", b"old-2", b"old-3"] * 2)

    delete(admin)
    # Renamed before the answer, removed only once the delay has passed.
    names = folders(broker)
    assert not [name for name in names if name.startswith(f"{TOPIC}-") and not DELETED.match(name)], names
    assert sorted(int(DELETED.match(name).group(1)) for name in names if DELETED.match(name)) == [0, 1], names
    wait_until(lambda: not any(DELETED.match(name) for name in folders(broker)), timeout=TIMEOUT,
               message="the -delete folders to be removed")

    second = create(admin, partitions=2)
    assert second != first
    for partition in range(2):
        assert partition_metadata(broker, partition) == f"version: 0\ntopic_id: {second}\n"
    assert consume_all(broker.bootstrap, partitions=2) == []
    produce(broker.bootstrap, [b"new-1"], partitions=1)
    assert consume_all(broker.bootstrap, partitions=2) == [b"new-1"]


def test_a_folder_left_by_an_earlier_incarnation_is_never_served(broker_factory, tmp_path):
    broker = broker_factory()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    first = create(admin, partitions=1)
    produce(broker.bootstrap, [b"old-1", b"old-2"], partitions=1)
    broker.stop()
    saved = tmp_path / "saved"
    shutil.copytree(broker.data_dir / f"{TOPIC}-0", saved)

    broker.start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    delete(admin)
    second = create(admin, partitions=1)
    broker.stop()
    # As if the deletion had never reached the folder: the old incarnation's data is back in place.
    shutil.rmtree(broker.data_dir / f"{TOPIC}-0")
    shutil.copytree(saved, broker.data_dir / f"{TOPIC}-0")

    broker.start()
    assert consume_all(broker.bootstrap, partitions=1) == []
    assert partition_metadata(broker, 0) == f"version: 0\ntopic_id: {second}\n"
    strays = [name for name in folders(broker) if STRAY.match(name)]
    assert len(strays) == 1, folders(broker)
    assert (broker.data_dir / strays[0] / "partition.metadata").read_text() == f"version: 0\ntopic_id: {first}\n"
    assert any("set aside" in line for line in broker.output), "".join(broker.output)
