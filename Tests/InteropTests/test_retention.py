"""Retention deletes old segments and moves the log start offset, as clients see it."""
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import wait_until


def watermarks(bootstrap: str, topic: str):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks", "enable.auto.commit": False})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    finally:
        consumer.close()


def produce_one_batch_each(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for index in range(count):
        producer.produce(topic, value=b"x" * 100 + str(index).encode(), partition=0)
        producer.flush(10)
    assert producer.flush(30) == 0


def test_size_retention_deletes_old_segments(broker_factory):
    broker = broker_factory("log.retention.check.interval.ms=100")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = {"segment.bytes": "1024", "retention.bytes": "2048", "file.delete.delay.ms": "0"}
    admin.create_topics([NewTopic("bounded", 1, 1, config=configs)])["bounded"].result(30)
    produce_one_batch_each(broker.bootstrap, "bounded", 60)
    low, high = wait_until(lambda: (w := watermarks(broker.bootstrap, "bounded"))[0] > 0 and w, timeout=20,
                           message="retention to move the log start offset")
    assert high == 60
    assert 0 < low < 60
    segment_files = wait_until(
        lambda: (files := list((broker.data_dir / "bounded-0").glob("*.log"))) and len(files) <= 5 and files,
        timeout=20, message="deleted segment files to be removed",
    )
    assert len(segment_files) <= 5


def test_time_retention_keeps_recent_data(broker_factory):
    broker = broker_factory("log.retention.check.interval.ms=100")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([
        NewTopic("recent", 1, 1, config={"segment.bytes": "1024", "retention.ms": "3600000"}),
        NewTopic("expired", 1, 1, config={"segment.bytes": "1024", "retention.ms": "1", "file.delete.delay.ms": "0"}),
    ])["recent"].result(30)
    produce_one_batch_each(broker.bootstrap, "recent", 30)
    produce_one_batch_each(broker.bootstrap, "expired", 30)
    # Once retention has emptied the topic with retention.ms=1, it has also looked at "recent",
    # where nothing is older than an hour: nothing of it may go.
    wait_until(lambda: watermarks(broker.bootstrap, "expired")[0] == 30, timeout=20, message="expired data to go")
    assert watermarks(broker.bootstrap, "recent") == (0, 30)
