"""`brook perf produce` and `brook perf consume` (kafka-producer-perf-test and
kafka-consumer-perf-test for Brook) against the real broker: the lines they print, and that
what they claim to have produced really is in the topic."""
import re
import subprocess

from cli_support import brook, succeeded
from conftest import brook_binary, wait_until
from records_support import consume, create_topic, segment_files, watermarks

NUMBER = r"[0-9]+(?:\.[0-9]+)?"
FINAL_LINE = re.compile(
    rf"^(\d+) records sent, ({NUMBER}) records/sec \(({NUMBER}) MB/sec\), ({NUMBER}) ms avg latency, "
    rf"({NUMBER}) ms max latency, ({NUMBER}) ms 50th, ({NUMBER}) ms 95th, ({NUMBER}) ms 99th, ({NUMBER}) ms 99\.9th\.$"
)
CONSUMER_HEADER = ("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
                   "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
DATE = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3}"
CONSUMER_LINE = re.compile(
    rf"^({DATE}), ({DATE}), ({NUMBER}), ({NUMBER}), (\d+), ({NUMBER}), (\d+), (\d+), ({NUMBER}), ({NUMBER})$"
)


def perf(broker, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(brook_binary()), "perf", *args, "--bootstrap-server", broker.bootstrap],
                          capture_output=True, text=True, timeout=timeout)


def final_line(result: subprocess.CompletedProcess) -> re.Match:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    match = FINAL_LINE.match(lines[-1])
    assert match, f"not kafka-producer-perf-test's final line: {lines[-1]!r}"
    return match


def high_watermarks(broker, topic: str, partitions: int) -> list[int]:
    return [watermarks(broker, topic, p)[1] for p in range(partitions)]


def test_perf_produce_then_consume(broker):
    topic, records, partitions = "perf-tools", 5_000, 3
    create_topic(broker, topic, partitions=partitions)
    # Small batches, so the records spread over many batches and every partition.
    produced = perf(broker, "produce", "--topic", topic, "--num-records", str(records), "--record-size", "100",
                    "--batch-size", "16384", "--acks", "all", "--throughput", "-1")
    match = final_line(produced)
    assert int(match.group(1)) == records
    assert float(match.group(2)) > 0 and float(match.group(3)) > 0
    p50, p95, p99, p999 = (float(match.group(i)) for i in range(6, 10))
    assert 0 <= p50 <= p95 <= p99 <= p999 <= float(match.group(5))
    counts = high_watermarks(broker, topic, partitions)
    assert sum(counts) == records and all(count > 0 for count in counts), counts
    # Payloads are `record-size` upper-case letters and carry no key.
    first = consume(broker, topic, partition=0, count=3)
    assert all(r.key is None and len(r.value) == 100 and r.value.isalpha() and r.value.isupper() for r in first)

    consumed = perf(broker, "consume", "--topic", topic, "--messages", str(records), "--fetch-size", "4096")
    assert consumed.returncode == 0, consumed.stderr
    header, line = consumed.stdout.strip().splitlines()
    assert header == CONSUMER_HEADER
    columns = CONSUMER_LINE.match(line)
    assert columns, f"not kafka-consumer-perf-test's columns: {line!r}"
    assert int(columns.group(5)) == records
    # Batches hold 100-byte values plus framing: more than the values, less than twice them.
    assert records * 100 < float(columns.group(3)) * 1_048_576 < records * 200


def test_perf_through_the_client_library_producer_and_consumer(broker):
    topic, records, partitions = "perf-library", 20_000, 3
    create_topic(broker, topic, partitions=partitions)
    # Record by record through the library's Producer: batches close at 16 KiB, so keyless
    # records move between partitions (sticky partitioning) and every one gets some.
    match = final_line(perf(broker, "produce", "--api", "producer", "--topic", topic, "--num-records", str(records),
                            "--record-size", "100", "--batch-size", "16384"))
    assert int(match.group(1)) == records
    p50, p95, p99, p999 = (float(match.group(i)) for i in range(6, 10))
    assert 0 <= p50 <= p95 <= p99 <= p999 <= float(match.group(5))
    counts = high_watermarks(broker, topic, partitions)
    assert sum(counts) == records and all(count > 0 for count in counts), counts

    # Record by record through the library's Consumer, with small fetches and polls.
    consumed = perf(broker, "consume", "--api", "consumer", "--topic", topic, "--messages", str(records),
                    "--fetch-size", "4096", "--hide-header")
    assert consumed.returncode == 0, consumed.stderr
    columns = CONSUMER_LINE.match(consumed.stdout.strip())
    assert columns, f"not kafka-consumer-perf-test's columns: {consumed.stdout!r}"
    assert int(columns.group(5)) == records
    # MB count values (there are no keys) as Kafka does: exactly records x 100 bytes.
    assert float(columns.group(3)) == round(records * 100 / 1_048_576, 4)

    bad = perf(broker, "consume", "--api", "records", "--topic", topic, "--messages", "1")
    assert bad.returncode != 0 and "--api takes fetches or consumer" in bad.stderr


def test_perf_produce_throttled_with_compression_and_acks(broker):
    topic = "perf-throttled"
    create_topic(broker, topic, partitions=2)
    total = 0
    for acks, codec in (("1", "zstd"), ("0", "lz4"), ("-1", "gzip"), ("all", "snappy")):
        result = perf(broker, "produce", "--topic", topic, "--num-records", "2000", "--record-size", "50",
                      "--throughput", "4000", "--linger-ms", "5", "--acks", acks, "--compression-codec", codec)
        match = final_line(result)
        assert int(match.group(1)) == 2000
        # 2,000 records at 4,000 records/s take about half a second: the rate is held.
        assert float(match.group(2)) < 4_400, result.stdout
        total += 2000
    # Nothing answers acks=0: the broker may still be appending what that run wrote.
    wait_until(lambda: sum(high_watermarks(broker, topic, 2)) == total, message=f"{total} records in {topic}")


def test_perf_consume_times_out_when_records_are_missing(broker):
    topic = "perf-short"
    create_topic(broker, topic, partitions=1)
    final_line(perf(broker, "produce", "--topic", topic, "--num-records", "10", "--record-size", "10"))
    result = perf(broker, "consume", "--topic", topic, "--messages", "20", "--timeout", "500")
    assert result.returncode != 0
    assert "timeout (500 ms) exceeded" in result.stderr
    assert CONSUMER_LINE.match(result.stdout.strip().splitlines()[-1]).group(5) == "10"


def test_perf_produce_fails_loudly_on_broker_errors(broker):
    # message.max.bytes is smaller than one batch: every Produce is refused.
    topic = "perf-refused"
    create_topic(broker, topic, partitions=1, config={"max.message.bytes": "2000"})
    result = perf(broker, "produce", "--topic", topic, "--num-records", "100", "--record-size", "100",
                  "--batch-size", "65536")
    assert result.returncode != 0
    assert "messageTooLarge" in result.stderr or "MESSAGE_TOO_LARGE" in result.stderr, result.stderr


def test_perf_produce_through_the_producer_with_and_without_idempotence(broker):
    producer_ids = {}
    for idempotence in ("true", "false"):
        topic = f"perf-idempotence-{idempotence}"
        create_topic(broker, topic, partitions=1)
        match = final_line(perf(broker, "produce", "--api", "producer", "--topic", topic, "--num-records", "500",
                                "--record-size", "20", "--producer-props", f"enable.idempotence={idempotence}"))
        assert int(match.group(1)) == 500
        segment = segment_files(broker, topic)[0]
        dumped = succeeded(brook("dump-log", "--files", str(segment)))
        producer_ids[idempotence] = set(re.findall(r"producerId: (-?\d+)", dumped))
    assert len(producer_ids["true"]) == 1 and int(producer_ids["true"].pop()) >= 0
    assert producer_ids["false"] == {"-1"}

    bad = perf(broker, "produce", "--topic", "perf-idempotence-true", "--num-records", "1", "--record-size", "1",
               "--producer-props", "enable.idempotence=true")
    assert bad.returncode != 0 and "enable.idempotence needs --api producer" in bad.stderr
