"""Transactions end to end against the real `brook` binary: confluent-kafka and kafka-python
transactional producers commit and abort, read_committed consumers see exactly the committed
records, a second producer with the same transactional.id fences the first, a hung transaction is
aborted by transaction.timeout.ms, a consume-transform-produce application killed mid-transaction
resumes with every result written exactly once, and all of it across broker restarts. The
administrative APIs (DescribeTransactions, ListTransactions, DescribeProducers) are read with
kafka-python's admin client."""
import signal
import subprocess
import sys
import textwrap

import pytest
from confluent_kafka import KafkaException
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import AbortTransactionSpec
from kafka.errors import TransactionCoordinatorFencedError
from kafka import TopicPartition as KafkaPythonTopicPartition

from conftest import wait_until
from records_support import TIMEOUT, create_topic, producer
from transactions_support import (
    FAST_TIMEOUTS, produce_transaction, read_all, run_transform_app, transactional_producer,
)


@pytest.fixture
def txn_broker(broker_factory):
    return broker_factory(*FAST_TIMEOUTS)


def values(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix}-{index}".encode() for index in range(count)]


def stop_and_start(broker, how: str | None) -> None:
    """Restarts the broker: "restart" is SIGTERM, "kill" is SIGKILL; None does nothing."""
    if how == "restart":
        broker.restart()
    elif how == "kill":
        broker.kill()
        broker.start()


@pytest.mark.parametrize("restart", [None, "kill"])
def test_committed_and_aborted_transactions_by_isolation_level(txn_broker, restart):
    create_topic(txn_broker, "txn", partitions=3)
    client = transactional_producer(txn_broker, "committer")
    produce_transaction(client, "txn", values("a", 9), commit=True, partitions=3)
    produce_transaction(client, "txn", values("b", 9), commit=False, partitions=3)
    produce_transaction(client, "txn", values("c", 9), commit=True, partitions=3)
    produce_transaction(client, "txn", values("d", 6), commit=False, partitions=3)
    stop_and_start(txn_broker, restart)
    produce_transaction(client, "txn", values("e", 3), commit=True, partitions=3)

    committed = sorted(read_all(txn_broker, "txn", 3, "read_committed"))
    assert committed == sorted(values("a", 9) + values("c", 9) + values("e", 3))
    uncommitted = sorted(read_all(txn_broker, "txn", 3, "read_uncommitted"))
    assert uncommitted == sorted(values("a", 9) + values("b", 9) + values("c", 9) + values("d", 6) + values("e", 3))

    # kafka-python's consumer filters aborted records from the AbortedTransactions list too.
    reader = KafkaConsumer(bootstrap_servers=txn_broker.bootstrap, isolation_level="read_committed",
                           auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=3000)
    reader.assign([KafkaPythonTopicPartition("txn", partition) for partition in range(3)])
    assert sorted(record.value for record in reader) == committed
    reader.close()


def test_kafka_python_transactional_producer(txn_broker):
    create_topic(txn_broker, "kp-txn")
    client = KafkaProducer(bootstrap_servers=txn_broker.bootstrap, transactional_id="kafka-python-txn")
    client.init_transactions()
    for index, commit in enumerate([True, False, True]):
        client.begin_transaction()
        for value in values(f"t{index}", 4):
            client.send("kp-txn", value=value, partition=0)
        client.flush()
        client.commit_transaction() if commit else client.abort_transaction()
    client.close()
    assert read_all(txn_broker, "kp-txn", 1, "read_committed") == values("t0", 4) + values("t2", 4)
    assert read_all(txn_broker, "kp-txn", 1, "read_uncommitted") == values("t0", 4) + values("t1", 4) + values("t2", 4)


@pytest.mark.parametrize("restart", [None, "restart"])
def test_a_second_producer_with_the_same_id_fences_the_first(txn_broker, restart):
    create_topic(txn_broker, "fenced")
    first = transactional_producer(txn_broker, "shared-id")
    first.begin_transaction()
    first.produce("fenced", value=b"zombie", partition=0)
    first.flush(TIMEOUT)
    # The open transaction is reloaded from __transaction_state.
    stop_and_start(txn_broker, restart)

    # The new producer's InitProducerId aborts the open transaction and bumps the epoch.
    second = transactional_producer(txn_broker, "shared-id")
    produce_transaction(second, "fenced", [b"fresh"], commit=True)

    with pytest.raises(KafkaException) as raised:
        first.commit_transaction(TIMEOUT)
    assert raised.value.args[0].fatal(), raised.value.args[0]
    assert read_all(txn_broker, "fenced", 1, "read_committed") == [b"fresh"]
    assert read_all(txn_broker, "fenced", 1, "read_uncommitted") == [b"zombie", b"fresh"]


HUNG_PRODUCER = textwrap.dedent("""
    import sys
    from confluent_kafka import Producer
    client = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "hung", "transaction.timeout.ms": 3000})
    client.init_transactions(30)
    client.begin_transaction()
    client.produce("hung", value=b"never-committed", partition=0)
    client.flush(30)
    print("open", flush=True)
    sys.stdin.read()
""")


def open_hung_transaction(broker) -> subprocess.Popen:
    """A producer process that opens a transaction on `hung` and then waits forever."""
    process = subprocess.Popen([sys.executable, "-c", HUNG_PRODUCER, broker.bootstrap],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "open"
    return process


@pytest.mark.parametrize("restart", [None, "restart", "kill"])
def test_a_hung_transaction_is_aborted_by_its_timeout(txn_broker, restart):
    create_topic(txn_broker, "hung")
    hung = open_hung_transaction(txn_broker)
    hung.send_signal(signal.SIGKILL)
    hung.wait()
    plain = producer(txn_broker)
    plain.produce("hung", value=b"after", partition=0)
    plain.flush(TIMEOUT)
    # The open transaction holds the last stable offset at its first record.
    assert read_all(txn_broker, "hung", 1, "read_committed") == []
    stop_and_start(txn_broker, restart)

    wait_until(lambda: read_all(txn_broker, "hung", 1, "read_committed") == [b"after"], timeout=TIMEOUT,
               message="the coordinator to abort the hung transaction")
    assert read_all(txn_broker, "hung", 1, "read_uncommitted") == [b"never-committed", b"after"]
    admin = KafkaAdminClient(bootstrap_servers=txn_broker.bootstrap)
    description = admin.describe_transactions(["hung"])["hung"]
    assert description.state == "CompleteAbort"
    admin.close()


@pytest.mark.parametrize("restart", ["restart", "kill"])
def test_an_open_transaction_commits_after_a_broker_restart(txn_broker, restart):
    create_topic(txn_broker, "survivor", partitions=2)
    client = transactional_producer(txn_broker, "survivor-id")
    produce_transaction(client, "survivor", values("before", 4), commit=True, partitions=2)
    client.begin_transaction()
    for index, value in enumerate(values("open", 4)):
        client.produce("survivor", value=value, partition=index % 2)
    client.flush(TIMEOUT)
    stop_and_start(txn_broker, restart)
    client.commit_transaction(TIMEOUT)
    produce_transaction(client, "survivor", values("after", 4), commit=False, partitions=2)
    produce_transaction(client, "survivor", values("last", 2), commit=True, partitions=2)
    assert sorted(read_all(txn_broker, "survivor", 2, "read_committed")) == sorted(
        values("before", 4) + values("open", 4) + values("last", 2))


@pytest.mark.parametrize("restart", [None, "kill"])
def test_consume_transform_produce_killed_mid_transaction_writes_each_result_once(txn_broker, restart):
    create_topic(txn_broker, "ctp-in", partitions=3)
    create_topic(txn_broker, "ctp-out", partitions=3)
    feed = producer(txn_broker)
    inputs = values("in", 300)
    for index, value in enumerate(inputs):
        feed.produce("ctp-in", value=value, partition=index % 3)
    feed.flush(TIMEOUT)

    crashed = run_transform_app(txn_broker, "ctp-in", "ctp-out", "ctp-group", "ctp-txn", "--crash-after", "125")
    assert crashed.returncode == 3, crashed.stdout + crashed.stderr
    stop_and_start(txn_broker, restart)
    finished = run_transform_app(txn_broker, "ctp-in", "ctp-out", "ctp-group", "ctp-txn")
    assert finished.returncode == 0, finished.stdout + finished.stderr

    outputs = read_all(txn_broker, "ctp-out", 3, "read_committed")
    assert sorted(outputs) == sorted(value + b"-out" for value in inputs)
    # The crashed transaction's records are in the log, aborted.
    assert len(read_all(txn_broker, "ctp-out", 3, "read_uncommitted")) > len(inputs)


def test_describe_and_list_transactions_and_producers(txn_broker):
    create_topic(txn_broker, "described", partitions=2)
    done = transactional_producer(txn_broker, "done-id")
    produce_transaction(done, "described", [b"x"], commit=True)
    open_one = transactional_producer(txn_broker, "open-id", **{"transaction.timeout.ms": 60000})
    open_one.begin_transaction()
    open_one.produce("described", value=b"y", partition=1)
    open_one.flush(TIMEOUT)

    admin = KafkaAdminClient(bootstrap_servers=txn_broker.bootstrap)
    try:
        described = admin.describe_transactions(["done-id", "open-id"])
        assert described["done-id"].state == "CompleteCommit"
        assert described["open-id"].state == "Ongoing"
        assert described["open-id"].transaction_timeout_ms == 60000
        assert described["open-id"].topic_partitions == {KafkaPythonTopicPartition("described", 1)}
        assert described["open-id"].transaction_start_time_ms > 0

        def listed(**filters) -> dict:
            by_broker = admin.list_transactions(**filters)
            return {listing.transactional_id: listing.state for listings in by_broker.values() for listing in listings}

        assert listed() == {"done-id": "CompleteCommit", "open-id": "Ongoing"}
        assert listed(state_filters=["Ongoing"]) == {"open-id": "Ongoing"}
        assert listed(producer_id_filters=[described["done-id"].producer_id]) == {"done-id": "CompleteCommit"}
        assert listed(duration_filter_ms=3_600_000) == {}

        producers = admin.describe_producers([KafkaPythonTopicPartition("described", 1)])
        state = producers[KafkaPythonTopicPartition("described", 1)]
        active = {entry.producer_id: entry for entry in state.active_producers}
        entry = active[described["open-id"].producer_id]
        assert entry.producer_epoch == described["open-id"].producer_epoch
        assert entry.current_transaction_start_offset == 0

        # kafka-transactions --abort: WriteTxnMarkers straight to the partition, with the producer
        # state DescribeProducers reported; the last stable offset moves past the transaction.
        plain = producer(txn_broker)
        plain.produce("described", value=b"z", partition=1)
        plain.flush(TIMEOUT)
        assert read_all(txn_broker, "described", 2, "read_committed") == [b"x"]
        admin.abort_transaction(AbortTransactionSpec(
            KafkaPythonTopicPartition("described", 1), entry.producer_id, entry.producer_epoch, entry.coordinator_epoch))
        assert read_all(txn_broker, "described", 2, "read_committed") == [b"x", b"z"]
    finally:
        admin.close()
    # The coordinator still ends the transaction; its marker closes nothing more.
    open_one.abort_transaction(TIMEOUT)
    produce_transaction(open_one, "described", [b"w"], commit=True, partitions=2)
    assert read_all(txn_broker, "described", 2, "read_committed") == [b"x", b"w", b"z"]


def test_idle_transactional_ids_expire(broker_factory):
    broker = broker_factory(*FAST_TIMEOUTS, "transactional.id.expiration.ms=1500",
                            "transaction.remove.expired.transaction.cleanup.interval.ms=200")
    create_topic(broker, "expiring")
    client = transactional_producer(broker, "short-lived")
    produce_transaction(client, "expiring", [b"kept"], commit=True)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        first_id = admin.describe_transactions(["short-lived"])["short-lived"].producer_id

        def listed() -> set[str]:
            return {listing.transactional_id for listings in admin.list_transactions().values() for listing in listings}

        assert listed() == {"short-lived"}
        wait_until(lambda: listed() == set(), timeout=TIMEOUT, message="the idle transactional id to expire")
        # The id starts over with a new producer id; the committed record stays.
        again = transactional_producer(broker, "short-lived")
        produce_transaction(again, "expiring", [b"again"], commit=True)
        assert admin.describe_transactions(["short-lived"])["short-lived"].producer_id != first_id
    finally:
        admin.close()
    assert read_all(broker, "expiring", 1, "read_committed") == [b"kept", b"again"]


def test_a_marker_from_no_coordinator_cannot_pin_the_last_stable_offset(txn_broker):
    """A WriteTxnMarkers claiming a coordinator epoch higher than any coordinator has had is refused
    (it would fence the real coordinator's markers for the producer, so its next transaction would
    hold the last stable offset forever); the coordinator's epoch grows with each broker start."""
    create_topic(txn_broker, "forged")
    partition = KafkaPythonTopicPartition("forged", 0)
    client = transactional_producer(txn_broker, "forged-id")
    produce_transaction(client, "forged", [b"a"], commit=True)

    def producer_state():
        admin = KafkaAdminClient(bootstrap_servers=txn_broker.bootstrap)
        try:
            (entry,) = admin.describe_producers([partition])[partition].active_producers
            return entry
        finally:
            admin.close()

    entry = producer_state()
    assert entry.coordinator_epoch >= 1
    admin = KafkaAdminClient(bootstrap_servers=txn_broker.bootstrap)
    try:
        with pytest.raises(TransactionCoordinatorFencedError):
            admin.abort_transaction(AbortTransactionSpec(partition, entry.producer_id, entry.producer_epoch, 2**31 - 1))
    finally:
        admin.close()
    produce_transaction(client, "forged", [b"b"], commit=True)
    assert read_all(txn_broker, "forged", 1, "read_committed") == [b"a", b"b"]

    txn_broker.restart()
    client = transactional_producer(txn_broker, "forged-id")
    produce_transaction(client, "forged", [b"c"], commit=True)
    assert read_all(txn_broker, "forged", 1, "read_committed") == [b"a", b"b", b"c"]
    assert producer_state().coordinator_epoch > entry.coordinator_epoch
