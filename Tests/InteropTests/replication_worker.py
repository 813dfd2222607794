"""A client process for the replication fault tests, runnable inside a network namespace:

    replication_worker.py produce BOOTSTRAP TOPIC PARTITIONS ACKED_FILE
        An idempotent acks=all confluent-kafka producer sending v0, v1, ... round the partitions
        until SIGTERM, then flushing; every acknowledged record is written to ACKED_FILE as
        "partition offset value" the moment its acknowledgement arrives.

    replication_worker.py consume BOOTSTRAP TOPIC PARTITIONS OUT_FILE TIMEOUT
        Reads every partition from offset 0 up to its high watermark and writes
        "partition offset value" lines, then "watermark partition offset" lines.
"""
import signal
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def produce(bootstrap: str, topic: str, partitions: int, acked_path: str) -> None:
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "message.timeout.ms": 120000, "linger.ms": 5, "retry.backoff.ms": 100})
    with open(acked_path, "w", buffering=1) as acked:
        def delivered(error, message):
            if error is None:
                acked.write(f"{message.partition()} {message.offset()} {message.value().decode()}\n")

        sent = 0
        while not stopping:
            try:
                producer.produce(topic, value=b"v%d" % sent, partition=sent % partitions, on_delivery=delivered)
                sent += 1
            except BufferError:
                pass
            producer.poll(0.002)
        producer.flush(120)


def consume(bootstrap: str, topic: str, partitions: int, out_path: str, timeout: float) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "replication-check", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 100})
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(partitions)}
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    positions = {p: 0 for p in range(partitions)}
    deadline = time.monotonic() + timeout
    with open(out_path, "w") as out:
        while any(positions[p] < ends[p] for p in ends) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            out.write(f"{message.partition()} {message.offset()} {message.value().decode()}\n")
            positions[message.partition()] = message.offset() + 1
        for p, end in sorted(ends.items()):
            out.write(f"watermark {p} {end}\n")
    consumer.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "produce":
        produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif mode == "consume":
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], float(sys.argv[6]))
    else:
        raise SystemExit(f"unknown mode {mode}")
