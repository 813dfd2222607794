"""A consume-transform-produce application with exactly-once semantics, run as its own process by
the interop tests: it reads `input` in group `group`, writes `<value>-out` for every record to
`output` in transactions of `--batch` records, and commits its input offsets in the same
transaction with send_offsets_to_transaction. With `--crash-after N` it exits abruptly (os._exit,
no abort, no close) once N records are in the open transaction's output, mid-transaction. It
stops by itself when it has committed everything up to the end of its input.

usage: transform_app.py BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID [--batch B] [--crash-after N]
"""
import argparse
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer

DEADLINE_SECONDS = 90


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "input", "output", "group", "transactional_id"):
        parser.add_argument(name)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--crash-after", type=int, default=None)
    args = parser.parse_args()

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap, "group.id": args.group, "group.instance.id": f"{args.group}-worker",
        "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": "read_committed",
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 300,
    })
    producer = Producer({"bootstrap.servers": args.bootstrap, "transactional.id": args.transactional_id, "linger.ms": 5})
    producer.init_transactions(30)
    consumer.subscribe([args.input])

    processed = 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        messages = consumer.consume(args.batch, 0.5)
        messages = [m for m in messages if m.error() is None]
        if not messages:
            if caught_up(consumer):
                producer.flush(30)
                consumer.close()
                print(f"processed {processed}", flush=True)
                return 0
            continue
        producer.begin_transaction()
        for message in messages:
            producer.produce(args.output, key=message.key(), value=message.value() + b"-out", partition=message.partition())
            processed += 1
            if args.crash_after is not None and processed >= args.crash_after:
                producer.flush(30)
                print(f"crashing after {processed}", flush=True)
                os._exit(3)
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
    print("deadline passed", flush=True)
    return 1


def caught_up(consumer: Consumer) -> bool:
    """True once the consumer has an assignment and has consumed or committed up to the end of
    every partition (the position is unset until a record is consumed after an assignment)."""
    assignment = consumer.assignment()
    if not assignment:
        return False
    committed = {p.partition: p.offset for p in consumer.committed(assignment, timeout=10)}
    for partition in consumer.position(assignment):
        _low, high = consumer.get_watermark_offsets(partition, timeout=10, cached=False)
        reached = partition.offset if partition.offset >= 0 else committed.get(partition.partition, -1)
        if reached < high:
            return False
    return True

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KafkaException as error:
        print(f"kafka error: {error}", flush=True)
        sys.exit(2)
