"""Helpers for the exactly-once interop tests: transactional producers, reading a topic to its end
with either isolation level, and the consume-transform-produce application run as its own process
(so that a test can kill it mid-transaction)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from confluent_kafka import KafkaError, Producer, TopicPartition

from records_support import TIMEOUT, consumer

APP = Path(__file__).resolve().parent / "transform_app.py"

# The coordinator checks for timed-out transactions every 200 ms instead of every 10 s.
FAST_TIMEOUTS = ("transaction.abort.timed.out.transaction.cleanup.interval.ms=200", "group.initial.rebalance.delay.ms=0")


def transactional_producer(broker, transactional_id: str, **extra) -> Producer:
    settings = {"bootstrap.servers": broker.bootstrap, "transactional.id": transactional_id, "linger.ms": 5}
    settings.update(extra)
    client = Producer(settings)
    client.init_transactions(TIMEOUT)
    return client


def produce_transaction(client: Producer, topic: str, values: list[bytes], commit: bool, partitions: int = 1) -> None:
    """One transaction of `values` spread over `partitions`; flushed before an abort so the aborted
    records really reach the log."""
    client.begin_transaction()
    for index, value in enumerate(values):
        client.produce(topic, value=value, partition=index % partitions)
    client.flush(TIMEOUT)
    if commit:
        client.commit_transaction(TIMEOUT)
    else:
        client.abort_transaction(TIMEOUT)


def read_all(broker, topic: str, partitions: int, isolation: str, timeout: float = TIMEOUT) -> list[bytes]:
    """Every value a confluent consumer with `isolation` reads from the start of each partition up to
    its end (the last stable offset for read_committed), in partition then offset order."""
    client = consumer(broker, {"isolation.level": isolation, "enable.partition.eof": True})
    try:
        client.assign([TopicPartition(topic, partition, 0) for partition in range(partitions)])
        values: dict[int, list[bytes]] = {partition: [] for partition in range(partitions)}
        at_end: set[int] = set()
        while len(at_end) < partitions:
            message = client.poll(timeout)
            assert message is not None, f"no end of {topic} after {values}"
            if message.error() is not None:
                assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                at_end.add(message.partition())
                continue
            values[message.partition()].append(message.value())
        return [value for partition in range(partitions) for value in values[partition]]
    finally:
        client.close()


def run_transform_app(broker, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Runs transform_app.py against `broker`; see that file for the arguments."""
    return subprocess.run(
        [sys.executable, str(APP), broker.bootstrap, *args], capture_output=True, text=True, timeout=timeout)
