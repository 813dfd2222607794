"""A full disk under the real broker (a small tmpfs as its log directory): produce requests that
do not fit are refused with KAFKA_STORAGE_ERROR and nothing half-written, every acknowledged
record stays readable, and the broker keeps serving, also after a restart."""
import subprocess
import tempfile
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer

from conftest import BrokerProcess, wait_until
from records_support import consume, create_topic


@pytest.fixture
def small_disk():
    directory = Path(tempfile.mkdtemp(prefix="brook-small-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(directory)], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)
        directory.rmdir()


def test_a_full_disk_refuses_appends_whole_and_keeps_what_was_acknowledged(small_disk):
    broker = BrokerProcess(small_disk / "data", ["log.flush.offset.checkpoint.interval.ms=3600000"])
    broker.start()
    try:
        create_topic(broker, "filling")
        producer = Producer({
            "bootstrap.servers": broker.bootstrap, "linger.ms": 0, "batch.num.messages": 1,
            "retries": 0, "enable.idempotence": False, "acks": 1, "message.timeout.ms": 10000,
        })
        acknowledged: list[bytes] = []
        refused: list[int] = []

        def report(error, message):
            if error is None:
                acknowledged.append(message.value())
            else:
                refused.append(error.code())

        index = 0
        while not refused and index < 20_000:
            producer.produce("filling", value=b"%06d-" % index + b"v" * 4000, partition=0, on_delivery=report)
            producer.flush(10)
            index += 1
        assert refused, "the 3 MiB disk never filled"
        assert set(refused) == {KafkaError.KAFKA_STORAGE_ERROR}
        assert len(acknowledged) > 100
        assert broker.is_running()

        # Every acknowledged record, in order, and nothing after them.
        records = consume(broker, "filling")
        assert [r.value for r in records] == acknowledged

        # Room again (the disk grows): the broker restarts, recovers and appends after them.
        subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
        broker.restart()
        assert [r.value for r in consume(broker, "filling")] == acknowledged
        producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": 1})
        producer.produce("filling", value=b"after", partition=0)
        assert producer.flush(10) == 0
        wait_until(lambda: [r.value for r in consume(broker, "filling")][-1:] == [b"after"], timeout=10)
    finally:
        broker.stop()
