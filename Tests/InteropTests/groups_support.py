"""Helpers for consumer-group interop tests: consumers that subscribe, and polling several of
them together until a condition holds."""
import time

import pytest
from confluent_kafka import Consumer

from records_support import TIMEOUT

# Group tests start the broker without the 3 s initial rebalance delay, so that groups form at once.
FAST_GROUPS = ("group.initial.rebalance.delay.ms=0",)


@pytest.fixture
def group_broker(broker_factory):
    return broker_factory(*FAST_GROUPS)


def group_consumer(broker, group: str, **extra) -> Consumer:
    settings = {
        "bootstrap.servers": broker.bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
        "topic.metadata.refresh.interval.ms": 1000,
    }
    settings.update(extra)
    # A None value removes a default (the consumer protocol refuses session and heartbeat settings).
    return Consumer({key: value for key, value in settings.items() if value is not None})


class Tracked:
    """A subscribed consumer with the records it received and its rebalance callbacks."""

    def __init__(self, consumer: Consumer, topics: list[str]):
        self.consumer = consumer
        self.records: list[tuple[int, int, bytes]] = []
        self.assigned: list[list[int]] = []
        self.revoked: list[list[int]] = []
        self.subscribe(topics)

    def subscribe(self, topics: list[str]) -> None:
        """(Re)subscribes, recording the rebalance callbacks, which run only when the consumer polls."""
        self.consumer.subscribe(
            topics,
            on_assign=lambda _, partitions: self.assigned.append(sorted(p.partition for p in partitions)),
            on_revoke=lambda _, partitions: self.revoked.append(sorted(p.partition for p in partitions)),
        )

    def poll(self, timeout: float = 0.05) -> None:
        message = self.consumer.poll(timeout)
        if message is None:
            return
        if message.error():
            raise AssertionError(f"consumer error: {message.error()}")
        self.records.append((message.partition(), message.offset(), message.value()))

    def partitions(self) -> list[int]:
        return sorted(p.partition for p in self.consumer.assignment())

    def topic_partitions(self) -> list[tuple[str, int]]:
        return sorted((p.topic, p.partition) for p in self.consumer.assignment())


def poll_until(consumers: list[Tracked], predicate, timeout: float = TIMEOUT * 2, message: str = "condition"):
    """Polls every consumer in turn until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            state = [(c.partitions(), len(c.records)) for c in consumers]
            raise AssertionError(f"timed out waiting for {message}; assignments and record counts: {state}")
        for consumer in consumers:
            consumer.poll()


def split_evenly(consumers: list[Tracked], partitions: int) -> bool:
    """Every partition assigned to exactly one consumer, and every consumer has some."""
    assigned = [p for c in consumers for p in c.partitions()]
    return sorted(assigned) == list(range(partitions)) and all(c.partitions() for c in consumers)
