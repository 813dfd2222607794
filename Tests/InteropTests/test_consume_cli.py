"""`brook consume` (the Swift client's Consumer) against the real broker, as a user runs it: one
record per line in kafka-console-consumer's formats, assigned partitions from the start, the end or
an offset, a consumer group that commits and resumes, read_committed over a confluent
transactional producer, and one line on stderr for bad input."""
import signal
import subprocess
import time

from confluent_kafka import TopicPartition

from conftest import brook_binary
from groups_support import FAST_GROUPS, group_broker  # noqa: F401
from records_support import TIMEOUT, consumer, create_topic, produce_all, producer
from transactions_support import produce_transaction, transactional_producer


def consume_cli(broker_or_address, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    address = broker_or_address if isinstance(broker_or_address, str) else broker_or_address.bootstrap
    return subprocess.run([str(brook_binary()), "consume", "--bootstrap-server", address, *args],
                          capture_output=True, timeout=timeout)


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return result.stdout.decode().splitlines()


def processed(result: subprocess.CompletedProcess) -> int:
    """The count of kafka-console-consumer's closing line on stderr."""
    last = result.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("Processed a total of "), result.stderr
    return int(last.split()[4])


def produce_values(broker, topic: str, messages: list[dict]) -> None:
    reports = produce_all(producer(broker), topic, messages)
    assert all(report.error is None for report in reports)


def test_records_print_in_the_console_consumers_formats(broker):
    create_topic(broker, "cli-format", partitions=1)
    produce_values(broker, "cli-format", [
        {"key": b"k1", "value": b"v1", "timestamp": 1700000000000, "headers": [("h1", b"x"), ("h2", b"y")]},
        {"key": None, "value": b"v2", "timestamp": 1700000000001},
        {"key": b"k3", "value": None, "timestamp": 1700000000002, "headers": [("h", None)]},
    ])
    plain = consume_cli(broker, "--topic", "cli-format", "--from-beginning", "--max-messages", "3")
    assert plain.returncode == 0, plain.stderr
    assert lines(plain) == ["v1", "v2", "null"]
    assert processed(plain) == 3

    full = consume_cli(broker, "--topic", "cli-format", "--from-beginning", "--max-messages", "3",
                       "--property", "print.key=true", "--property", "print.timestamp=true", "--property", "print.headers=true")
    assert full.returncode == 0, full.stderr
    assert lines(full) == [
        "CreateTime:1700000000000\th1:x,h2:y\tk1\tv1",
        "CreateTime:1700000000001\tNO_HEADERS\tnull\tv2",
        "CreateTime:1700000000002\th:null\tk3\tnull",
    ]

    separated = consume_cli(broker, "--topic", "cli-format", "--from-beginning", "--max-messages", "1",
                            "--property", "print.key=true", "--property", "key.separator=|",
                            "--property", "print.partition=true", "--property", "print.offset=true")
    assert lines(separated) == ["Partition:0|Offset:0|k1|v1"]


def test_partitions_start_at_the_end_the_beginning_or_an_offset(broker):
    create_topic(broker, "cli-positions", partitions=3)
    produce_values(broker, "cli-positions", [{"value": f"p{i % 3}-{i // 3}".encode(), "partition": i % 3} for i in range(30)])

    everything = consume_cli(broker, "--topic", "cli-positions", "--from-beginning", "--timeout-ms", "2000")
    assert everything.returncode == 0, everything.stderr
    assert sorted(lines(everything)) == sorted(f"p{i % 3}-{i // 3}" for i in range(30))
    for partition in range(3):
        values = [line for line in lines(everything) if line.startswith(f"p{partition}-")]
        assert values == [f"p{partition}-{i}" for i in range(10)], "each partition in offset order"
    assert processed(everything) == 30

    from_end = consume_cli(broker, "--topic", "cli-positions", "--timeout-ms", "1000")
    assert from_end.returncode == 0 and lines(from_end) == [] and processed(from_end) == 0

    at_offset = consume_cli(broker, "--topic", "cli-positions", "--partition", "1", "--offset", "7", "--timeout-ms", "1000")
    assert lines(at_offset) == ["p1-7", "p1-8", "p1-9"]
    earliest = consume_cli(broker, "--topic", "cli-positions", "--partition", "2", "--offset", "earliest", "--max-messages", "2")
    assert lines(earliest) == ["p2-0", "p2-1"]
    latest = consume_cli(broker, "--topic", "cli-positions", "--partition", "2", "--offset", "latest", "--timeout-ms", "500")
    assert lines(latest) == []


def test_a_group_commits_what_it_printed_and_the_next_run_resumes(group_broker):
    create_topic(group_broker, "cli-group", partitions=2)
    produce_values(group_broker, "cli-group", [{"value": f"v{i}".encode(), "partition": i % 2} for i in range(20)])
    first = consume_cli(group_broker, "--topic", "cli-group", "--group", "cli", "--from-beginning", "--max-messages", "7")
    assert first.returncode == 0, first.stderr
    assert len(lines(first)) == 7

    second = consume_cli(group_broker, "--topic", "cli-group", "--group", "cli", "--timeout-ms", "3000")
    assert second.returncode == 0, second.stderr
    assert sorted(lines(first) + lines(second)) == sorted(f"v{i}" for i in range(20)), "nothing lost, nothing twice"

    reader = consumer(group_broker, {"group.id": "cli"})
    try:
        committed = reader.committed([TopicPartition("cli-group", p) for p in range(2)], timeout=TIMEOUT)
        assert [tp.offset for tp in committed] == [10, 10]
    finally:
        reader.close()

    third = consume_cli(group_broker, "--topic", "cli-group", "--group", "cli", "--from-beginning", "--timeout-ms", "2000")
    assert lines(third) == [] and processed(third) == 0, "committed offsets win over --from-beginning"


def test_read_committed_skips_a_confluent_producers_aborted_transactions(broker):
    create_topic(broker, "cli-txn", partitions=1)
    client = transactional_producer(broker, "cli-txn-producer")
    produce_transaction(client, "cli-txn", [b"a", b"b"], commit=True)
    produce_transaction(client, "cli-txn", [b"c"], commit=False)
    produce_transaction(client, "cli-txn", [b"d"], commit=True)
    committed = consume_cli(broker, "--topic", "cli-txn", "--from-beginning", "--isolation-level", "read_committed", "--timeout-ms", "2000")
    assert committed.returncode == 0, committed.stderr
    assert lines(committed) == ["a", "b", "d"]
    everything = consume_cli(broker, "--topic", "cli-txn", "--from-beginning", "--isolation-level", "read_uncommitted", "--timeout-ms", "2000")
    assert lines(everything) == ["a", "b", "c", "d"]


def test_sigterm_stops_the_consumer_cleanly(group_broker):
    create_topic(group_broker, "cli-signal", partitions=1)
    produce_values(group_broker, "cli-signal", [{"value": b"only"}])
    process = subprocess.Popen([str(brook_binary()), "consume", "--bootstrap-server", group_broker.bootstrap,
                                "--topic", "cli-signal", "--group", "sig", "--from-beginning"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"only\n"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert stderr.decode().strip().splitlines()[-1] == "Processed a total of 1 messages"


def test_bad_input_gives_one_line_on_stderr_and_a_failure_status(broker_factory):
    strict = broker_factory("auto.create.topics.enable=false")
    create_topic(strict, "cli-exists")
    failures = {
        "unknown topic": consume_cli(strict, "--topic", "no-such-topic", "--timeout-ms", "1000"),
        "unknown topic in a group": consume_cli(strict, "--topic", "no-such-topic", "--group", "g", "--timeout-ms", "1000"),
        "invalid name": consume_cli(strict, "--topic", "bad/name"),
        "unknown flag": consume_cli(strict, "--topic", "cli-exists", "--no-such-flag"),
        "offset without partition": consume_cli(strict, "--topic", "cli-exists", "--offset", "3"),
        "bad offset": consume_cli(strict, "--topic", "cli-exists", "--partition", "0", "--offset", "soon"),
        "missing partition": consume_cli(strict, "--topic", "cli-exists", "--partition", "5"),
        "group and partition": consume_cli(strict, "--topic", "cli-exists", "--group", "g", "--partition", "0"),
        "bad property": consume_cli(strict, "--topic", "cli-exists", "--property", "print.key"),
        "bad isolation": consume_cli(strict, "--topic", "cli-exists", "--isolation-level", "serializable"),
    }
    for name, result in failures.items():
        stderr = result.stderr.decode()
        assert result.returncode != 0, name
        assert len(stderr.strip().splitlines()) == 1, f"{name}: {stderr}"
        assert "Traceback" not in stderr and "Fatal error" not in stderr, name
    assert "does not exist" in failures["unknown topic"].stderr.decode()

    started = time.monotonic()
    unreachable = consume_cli("127.0.0.1:1", "--topic", "t")
    assert unreachable.returncode != 0 and len(unreachable.stderr.decode().strip().splitlines()) == 1
    assert "cannot connect" in unreachable.stderr.decode()
    assert time.monotonic() - started < 20

    help_text = subprocess.run([str(brook_binary()), "consume", "--help"], capture_output=True, text=True, timeout=30)
    assert help_text.returncode == 0 and "--bootstrap-server" in help_text.stdout and "--max-messages" in help_text.stdout
