"""Client quotas (issue 17): per user and client-id (and their defaults) produce and fetch byte
rates and request percentage, stored as ClientQuotaRecords and managed with `brook configs
--entity-type users|clients` as with kafka-configs. A client over its quota is told to wait
(throttle_time_ms) and its connection is muted that long: a producer going as fast as it can is
slowed to its byte rate."""
import logging
import struct
import time

from confluent_kafka import Consumer, Producer
from kafka import KafkaAdminClient

import kafka_wire
from cli_support import brook, failed_with, succeeded
from conftest import wait_until
from records_support import TIMEOUT


def configs(broker, *args: str):
    return brook("configs", *args[:1], "--bootstrap-server", broker.bootstrap, *args[1:])


def test_quotas_are_altered_and_described_as_kafka_configs_does(broker):
    out = succeeded(configs(broker, "alter", "--entity-type", "users", "--entity-name", "alice",
                            "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152"))
    assert out.strip() == "Completed updating config for user alice."
    succeeded(configs(broker, "alter", "--entity-type", "clients", "--entity-default", "--add-config", "request_percentage=200"))
    succeeded(configs(broker, "alter", "--user", "alice", "--client", "app", "--add-config", "producer_byte_rate=5000"))
    assert succeeded(configs(broker, "describe", "--entity-type", "users", "--entity-name", "alice")).strip() == \
        "Quota configs for user-principal 'alice' are consumer_byte_rate=2097152.0, producer_byte_rate=1048576.0"
    assert succeeded(configs(broker, "describe", "--entity-type", "clients", "--entity-default")).strip() == \
        "Quota configs for the default client-id are request_percentage=200.0"
    assert succeeded(configs(broker, "describe", "--user", "alice", "--client", "app")).strip() == \
        "Quota configs for user-principal 'alice', client-id 'app' are producer_byte_rate=5000.0"
    succeeded(configs(broker, "alter", "--entity-type", "users", "--entity-name", "alice", "--delete-config", "producer_byte_rate"))
    broker.restart()  # quotas are in the metadata log
    assert succeeded(configs(broker, "describe", "--entity-type", "users")).strip() == \
        "Quota configs for user-principal 'alice' are consumer_byte_rate=2097152.0"
    failed_with(configs(broker, "alter", "--entity-type", "users", "--entity-name", "bob", "--add-config", "producer_byte_rate=-5"),
                "Illegal value")
    failed_with(configs(broker, "alter", "--entity-type", "clients", "--entity-name", "c", "--add-config", "retention.ms=5"),
                "Invalid configuration key retention.ms")


def test_a_producer_over_its_byte_rate_is_slowed_to_within_ten_percent_of_it_over_30_seconds(broker):
    quota = 1_048_576
    succeeded(configs(broker, "alter", "--entity-type", "clients", "--entity-name", "quota-producer",
                      "--add-config", f"producer_byte_rate={quota}"))
    throttles = []
    delivered = [0]
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "quota-producer", "linger.ms": 5,
                         "queue.buffering.max.kbytes": 4096, "throttle_cb": lambda event: throttles.append(event.throttle_time)})

    def on_delivery(error, message):
        assert error is None, error
        delivered[0] += len(message.value())

    value = b"q" * 10_240
    start = time.monotonic()
    while time.monotonic() - start < 30:
        try:
            producer.produce("quota-topic", value=value, on_delivery=on_delivery)
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    counted_at = time.monotonic()
    counted = delivered[0]
    producer.flush(TIMEOUT)
    rate = counted / (counted_at - start)
    print(f"producer quota: {rate:.0f} B/s against {quota} B/s ({rate / quota:.3f}x)")
    assert throttles and max(throttles) > 0, "the broker never reported a throttle time"
    assert 0.9 * quota <= rate <= 1.1 * quota, f"{rate:.0f} B/s against a quota of {quota} B/s"


def test_a_consumer_over_its_byte_rate_is_throttled(broker):
    payload = b"c" * 10_240
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for _ in range(2_000):  # 20 MB, unthrottled
        producer.produce("fetch-quota", value=payload)
        producer.poll(0)
    assert producer.flush(TIMEOUT) == 0
    quota = 524_288
    succeeded(configs(broker, "alter", "--entity-type", "clients", "--entity-name", "quota-consumer",
                      "--add-config", f"consumer_byte_rate={quota}"))
    throttles = []
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "fq", "client.id": "quota-consumer",
                         "auto.offset.reset": "earliest", "throttle_cb": lambda event: throttles.append(event.throttle_time)})
    consumer.subscribe(["fetch-quota"])
    received = [0]
    start = time.monotonic()

    def twelve_seconds() -> bool:
        message = consumer.poll(0.1)
        if message is not None and message.error() is None:
            received[0] += len(message.value())
        return time.monotonic() - start >= 12

    wait_until(twelve_seconds, timeout=60, interval=0, message="12 s of consuming")
    consumer.close()
    assert throttles and max(throttles) > 0, "the broker never reported a throttle time"
    # 20 MB are there to read; at 512 KiB/s (with the first window's credit of ~10 s) the consumer
    # reads well under that in 12 s.
    assert received[0] <= quota * (12 + 11) * 1.1, received[0]
    assert received[0] < 20_480_000


def open_and_probe(bootstrap: str) -> bool:
    """Opens a connection and asks ApiVersions: whether the broker answered."""
    try:
        with kafka_wire.connect(bootstrap, timeout=5) as sock:
            sock.sendall(kafka_wire.request_frame(18, 0, 1))
            return len(kafka_wire.read_frame(sock)) > 0
    except (ConnectionError, OSError, struct.error):
        return False


def test_an_ips_connection_creation_rate_quota_refuses_connections_over_it(broker):
    out = succeeded(configs(broker, "alter", "--entity-type", "ips", "--entity-name", "127.0.0.1",
                            "--add-config", "connection_creation_rate=3"))
    assert out.strip() == "Completed updating config for ip 127.0.0.1."
    answered = [open_and_probe(broker.bootstrap) for _ in range(30)]
    assert answered[0] and answered.count(False) >= 10, answered
    wait_until(lambda: any("connection_creation_rate quota is exceeded" in line for line in broker.output),
               timeout=10, message="the broker's log line")
    # The tool connects from 127.0.0.1 too: once the rate has fallen back, it may remove the quota.
    wait_until(lambda: configs(broker, "alter", "--entity-type", "ips", "--entity-name", "127.0.0.1",
                               "--delete-config", "connection_creation_rate").returncode == 0,
               timeout=30, interval=0.5, message="the quota to be removed")
    assert all(open_and_probe(broker.bootstrap) for _ in range(10))


def test_max_connection_creation_rate_makes_new_connections_wait(broker_factory):
    broker = broker_factory("max.connection.creation.rate=5")
    start = time.monotonic()
    assert all(open_and_probe(broker.bootstrap) for _ in range(20))
    # 20 connections at 5 per second: the accepts after the first second's wait their turn.
    assert time.monotonic() - start >= 1.5


def test_a_client_over_its_request_percentage_is_told_it_is_throttled(broker, caplog):
    """kafka-python pauses a connection for the throttle_time_ms any response names (KIP-219)
    and logs it: a client whose handler time exceeds its request_percentage is told so."""
    succeeded(configs(broker, "alter", "--entity-type", "clients", "--entity-name", "busy-admin",
                      "--add-config", "request_percentage=0.05"))
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="busy-admin")
    try:
        with caplog.at_level(logging.WARNING, logger="kafka"):
            def throttled() -> bool:
                admin.list_topics()
                return any("throttled by broker" in record.getMessage() for record in caplog.records)
            # Each request takes a fraction of a millisecond: a few hundred of them exceed
            # 0.05% of a second (0.5 ms) per second.
            wait_until(throttled, timeout=60, interval=0, message="a throttle_time_ms in a response")
    finally:
        admin.close()
