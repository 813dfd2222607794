#!/usr/bin/env python3
"""confluent-kafka (librdkafka) as a reference client for scripts/bench/client-bench.sh.

  confluent_client.py produce BOOTSTRAP TOPIC COUNT SIZE   # prints records/s
  confluent_client.py consume BOOTSTRAP TOPIC COUNT        # prints records/s

produce: COUNT keyless records of SIZE bytes, acks=all, linger.ms=5, batch.size=1000000,
idempotence off (kcat's default), delivery reports polled as the queue fills; timed from the
first produce() to the end of flush().
consume: COUNT records from the start of every partition without a group (assign at
OFFSET_BEGINNING), fetched in batches of up to 10,000 with consume(); timed from the
assignment to the last record.
"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def produce(bootstrap: str, topic: str, count: int, size: int) -> float:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                         "batch.size": 1_000_000, "queue.buffering.max.messages": 1_000_000})
    value = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.001)
    producer.flush()
    return count / (time.perf_counter() - start)


def consume(bootstrap: str, topic: str, count: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-unused", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, -2) for p in partitions])  # -2: OFFSET_BEGINNING
    start = time.perf_counter()
    seen = 0
    deadline = time.monotonic() + 60
    while seen < count and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=10_000, timeout=1.0):
            if message.error() is None:
                seen += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    if seen < count:
        raise SystemExit(f"consumed {seen} of {count} records")
    return count / elapsed


if __name__ == "__main__":
    mode, bootstrap, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rate = produce(bootstrap, topic, count, int(sys.argv[5])) if mode == "produce" else consume(bootstrap, topic, count)
    print(f"{rate:.0f}")
