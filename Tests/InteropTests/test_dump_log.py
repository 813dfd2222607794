"""`brook dump-log` on segments written by real clients: batches and records in kafka-dump-log's
format, transaction markers, CRC checks on a corrupted segment, and a truncated one."""
import subprocess

from confluent_kafka import Producer

from conftest import brook_binary
from records_support import TIMEOUT, create_topic, producer, segment_files


def dump_log(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(brook_binary()), "dump-log", *args], capture_output=True, text=True, timeout=60)


def test_batches_records_and_markers(broker):
    create_topic(broker, "dumped")
    plain = producer(broker, {"compression.type": "zstd", "linger.ms": 50})
    # Values zstd shrinks (librdkafka sends a batch uncompressed when the codec does not help).
    plain.produce("dumped", key=b"k1", value=b"first" * 40, partition=0, headers=[("h", b"v")])
    plain.produce("dumped", key=b"k2", value=b"second" * 40, partition=0)
    plain.flush(TIMEOUT)
    transactional = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "dumper"})
    transactional.init_transactions(TIMEOUT)
    transactional.begin_transaction()
    transactional.produce("dumped", value=b"inside", partition=0)
    transactional.commit_transaction(TIMEOUT)

    segment = segment_files(broker, "dumped")[0]
    result = dump_log("--files", str(segment), "--print-data-log")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Dumping {segment}"
    assert lines[1] == "Log starting offset: 0"
    batches = [line for line in lines if line.startswith("baseOffset:")]
    assert len(batches) == 3
    assert "baseOffset: 0 lastOffset: 1 count: 2" in batches[0] and "compresscodec: zstd" in batches[0]
    assert "isTransactional: true isControl: false" in batches[1]
    assert "isControl: true" in batches[2]
    assert all("isvalid: true" in line for line in batches)
    records = [line for line in lines if line.startswith("| offset:")]
    assert f"key: k1 payload: {'first' * 40}" in records[0] and "headerKeys: [h]" in records[0]
    assert f"key: k2 payload: {'second' * 40}" in records[1]
    assert "payload: inside" in records[2]
    # The transaction coordinator's first load takes coordinator epoch 1 (the leader epoch of
    # its __transaction_state partition after the load's bump).
    assert "endTxnMarker: COMMIT coordinatorEpoch: 1" in records[3]


def test_corrupted_and_truncated_segments(broker, tmp_path):
    create_topic(broker, "damaged")
    client = producer(broker)
    for index in range(3):
        client.produce("damaged", value=f"value-{index}".encode(), partition=0)
        client.flush(TIMEOUT)
    data = bytearray(segment_files(broker, "damaged")[0].read_bytes())

    corrupted = tmp_path / "00000000000000000000.log"
    flipped = bytearray(data)
    flipped[-3] ^= 0xFF  # inside the last batch's records
    corrupted.write_bytes(bytes(flipped))
    result = dump_log("--files", str(corrupted))
    assert result.returncode == 0, result.stderr
    validity = [line.rsplit("isvalid: ", 1)[1] for line in result.stdout.splitlines() if line.startswith("baseOffset:")]
    assert validity == ["true", "true", "false"]

    truncated = tmp_path / "00000000000000000003.log"
    truncated.write_bytes(bytes(data[:-10]))
    result = dump_log("--files", str(truncated))
    assert result.returncode == 1
    assert "Log starting offset: 3" in result.stdout
    assert "invalid bytes at the end" in result.stdout
    assert result.stdout.count("baseOffset:") == 2

    missing = dump_log("--files", str(tmp_path / "absent.log"))
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
