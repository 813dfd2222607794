"""`brook produce` (the Swift client's Producer) against the real broker, as a user runs it: one
record per stdin line, keys parsed with a separator, every codec, and keys partitioned exactly as
confluent-kafka's murmur2_random partitioner (the Java client's default) puts them."""
import subprocess
import time

import pytest

from conftest import brook_binary
from records_support import CODEC_IDS, CODECS, TIMEOUT, consume, create_topic, producer, segment_batches


def produce_cli(broker_or_address, *args: str, input: str) -> subprocess.CompletedProcess:
    address = broker_or_address if isinstance(broker_or_address, str) else broker_or_address.bootstrap
    return subprocess.run([str(brook_binary()), "produce", "--bootstrap-server", address, *args],
                          input=input, capture_output=True, text=True, timeout=60)


def test_keys_land_where_confluent_puts_them(broker):
    create_topic(broker, "cli-keys", partitions=6)
    create_topic(broker, "confluent-keys", partitions=6)
    keys = [f"user-{index}" for index in range(60)] + ["", "ü-ключ", "a-little-bit-longer-string"]
    lines = "".join(f"{key}|value-{index}\n" for index, key in enumerate(keys))
    result = produce_cli(broker, "--topic", "cli-keys", "--property", "parse.key=true", "--property", "key.separator=|", input=lines)
    assert result.returncode == 0, result.stderr

    reference = producer(broker, {"partitioner": "murmur2_random"})
    for index, key in enumerate(keys):
        reference.produce("confluent-keys", key=key.encode(), value=f"value-{index}".encode())
    reference.flush(TIMEOUT)

    def partitions_of(topic: str) -> dict[bytes, int]:
        placed = {}
        for partition in range(6):
            for record in consume(broker, topic, partition=partition):
                placed[record.key] = partition
        return placed

    ours, theirs = partitions_of("cli-keys"), partitions_of("confluent-keys")
    assert len(ours) == len(keys)
    assert ours == theirs


@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_and_acks_setting(broker, codec):
    topic = f"cli-{codec}"
    create_topic(broker, topic)
    lines = "".join(f"line {index} " + "x" * 50 + "\n" for index in range(200))
    result = produce_cli(broker, "--topic", topic, "--compression-codec", codec, "--acks", "1",
                         "--producer-property", "linger.ms=50", input=lines)
    assert result.returncode == 0, result.stderr
    records = consume(broker, topic)
    assert [record.value for record in records] == [line.encode() for line in lines.splitlines()]
    assert [record.key for record in records] == [None] * 200
    batches = segment_batches(broker, topic)
    assert len(batches) < 20, "records travel in batches"
    assert all(batch.attributes & 0x7 == CODEC_IDS[codec] for batch in batches)


def test_bad_input_gives_one_line_on_stderr_and_a_failure_status(broker):
    create_topic(broker, "cli-errors")
    missing_separator = produce_cli(broker, "--topic", "cli-errors", "--property", "parse.key=true", input="no separator\n")
    unknown_codec = produce_cli(broker, "--topic", "cli-errors", "--compression-codec", "brotli", input="x\n")
    bad_property = produce_cli(broker, "--topic", "cli-errors", "--producer-property", "linger.ms", input="x\n")
    invalid_topic = produce_cli(broker, "--topic", "bad/name", input="x\n")
    for result in (missing_separator, unknown_codec, bad_property, invalid_topic):
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr and "Fatal error" not in result.stderr
    assert "key separator" in missing_separator.stderr

    started = time.monotonic()
    unreachable = produce_cli("127.0.0.1:1", "--topic", "t", input="x\n")
    assert unreachable.returncode != 0 and len(unreachable.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 20

    help_text = subprocess.run([str(brook_binary()), "produce", "--help"], capture_output=True, text=True, timeout=30)
    assert help_text.returncode == 0 and "--bootstrap-server" in help_text.stdout
