"""Idempotent producers against the real `brook` binary: producer ids from InitProducerId, retried
batches answered with their original offsets (never written twice), sequence gaps and fenced
epochs refused, and the producer state surviving a restart and kill -9. Raw frames let the tests
resend exactly what a producer retries; confluent-kafka checks the whole path with idempotence on."""
import pytest

from dropping_proxy import DroppingProxy
from producer_wire import batch, init_producer_id, produce
from records_support import TIMEOUT, consume, create_topic, produce_all, producer, watermarks

OUT_OF_ORDER_SEQUENCE_NUMBER = 45
UNKNOWN_PRODUCER_ID = 59
INVALID_PRODUCER_EPOCH = 47


def test_producer_ids_are_unique_and_survive_restarts(broker):
    first, _ = init_producer_id(broker)
    second, epoch = init_producer_id(broker)
    assert second == first + 1 and epoch == 0
    broker.kill()
    broker.start()
    # Ids come from blocks reserved in the metadata log: a crash skips the rest of a block.
    third, _ = init_producer_id(broker)
    assert third > second


def test_a_retried_batch_is_answered_with_its_original_offset(broker):
    create_topic(broker, "idem-retry")
    pid, epoch = init_producer_id(broker)
    first = batch(pid, epoch, 0, [b"a", b"b", b"c"])
    assert produce(broker, "idem-retry", first) == (0, 0)
    assert produce(broker, "idem-retry", first) == (0, 0)
    assert produce(broker, "idem-retry", batch(pid, epoch, 3, [b"d"])) == (0, 3)
    assert produce(broker, "idem-retry", batch(pid, epoch, 3, [b"d"])) == (0, 3)
    assert watermarks(broker, "idem-retry") == (0, 4)
    assert [r.value for r in consume(broker, "idem-retry")] == [b"a", b"b", b"c", b"d"]


def test_sequence_gaps_and_old_epochs_are_refused(broker):
    create_topic(broker, "idem-refuse")
    pid, epoch = init_producer_id(broker)
    assert produce(broker, "idem-refuse", batch(pid, epoch, 0, [b"a"])) == (0, 0)
    assert produce(broker, "idem-refuse", batch(pid, epoch, 5, [b"gap"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
    # A new epoch starts again at sequence 0; the old epoch is then fenced.
    assert produce(broker, "idem-refuse", batch(pid, epoch + 1, 3, [b"bad start"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(broker, "idem-refuse", batch(pid, epoch + 1, 0, [b"b"])) == (0, 1)
    assert produce(broker, "idem-refuse", batch(pid, epoch, 1, [b"zombie"]))[0] == INVALID_PRODUCER_EPOCH
    # A producer the partition has no state for must start at 0 (KIP-360 lets it reset on this).
    stranger, stranger_epoch = init_producer_id(broker)
    assert produce(broker, "idem-refuse", batch(stranger, stranger_epoch, 4, [b"lost"]))[0] == UNKNOWN_PRODUCER_ID
    assert watermarks(broker, "idem-refuse") == (0, 2)


@pytest.mark.parametrize("stop", ["restart", "kill -9"])
def test_producer_state_survives_the_broker_stopping(broker, stop):
    create_topic(broker, "idem-durable")
    pid, epoch = init_producer_id(broker)
    assert produce(broker, "idem-durable", batch(pid, epoch, 0, [b"a", b"b"])) == (0, 0)
    last = batch(pid, epoch, 2, [b"c"])
    assert produce(broker, "idem-durable", last) == (0, 2)
    if stop == "restart":
        broker.restart()
    else:
        broker.kill()
        broker.start()
    # The last batch is still known (snapshot on a clean stop, rebuilt from the log after a crash).
    assert produce(broker, "idem-durable", last) == (0, 2)
    assert produce(broker, "idem-durable", batch(pid, epoch, 9, [b"gap"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(broker, "idem-durable", batch(pid, epoch, 3, [b"d"])) == (0, 3)
    assert watermarks(broker, "idem-durable") == (0, 4)


def test_confluent_idempotent_producer_writes_each_record_once(broker):
    create_topic(broker, "idem-confluent", partitions=3)
    client = producer(broker, {"enable.idempotence": True, "acks": "all", "linger.ms": 5})
    reports = produce_all(client, "idem-confluent", [{"value": f"v{i}".encode(), "partition": i % 3} for i in range(3_000)])
    assert all(r.error is None for r in reports)
    for partition in range(3):
        assert watermarks(broker, "idem-confluent", partition) == (0, 1_000)
    values = sorted(r.value for p in range(3) for r in consume(broker, "idem-confluent", partition=p))
    assert values == sorted(f"v{i}".encode() for i in range(3_000))


def test_a_lost_acknowledgement_does_not_duplicate_records(broker_factory):
    """librdkafka resends a batch whose response was lost; the broker recognises the retry."""
    proxy = DroppingProxy()
    try:
        broker = broker_factory(f"advertised.listeners=PLAINTEXT://127.0.0.1:{proxy.port}")
        proxy.target = ("127.0.0.1", broker.port)
        create_topic(broker, "idem-lost-ack")
        proxied = type("Proxied", (), {"bootstrap": f"127.0.0.1:{proxy.port}", "data_dir": broker.data_dir})()
        client = producer(proxied, {"enable.idempotence": True, "acks": "all", "linger.ms": 0, "retry.backoff.ms": 50})
        assert [r.error for r in produce_all(client, "idem-lost-ack", [{"value": b"first"}])] == [None]
        proxy.drop_responses_to(0)  # the next Produce response is lost and the connection cut
        reports = produce_all(client, "idem-lost-ack", [{"value": b"second"}])
        assert proxy.dropped == 1
        assert [(r.error, r.offset) for r in reports] == [(None, 1)]
        assert watermarks(broker, "idem-lost-ack") == (0, 2)
        assert [r.value for r in consume(broker, "idem-lost-ack")] == [b"first", b"second"]
    finally:
        proxy.close()
