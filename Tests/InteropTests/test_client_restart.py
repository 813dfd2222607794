"""The Swift client across a broker restart: `brook consume --group` keeps consuming and
`brook produce` keeps producing while the broker is stopped and started again (the client
reconnects to a broker that closed its connections)."""
import subprocess
import threading

from conftest import brook_binary, wait_until
from records_support import TIMEOUT, create_topic, producer


def test_consume_and_produce_survive_a_broker_restart(broker):
    create_topic(broker, "restarted", partitions=2)
    consumer = subprocess.Popen(
        [str(brook_binary()), "consume", "--bootstrap-server", broker.bootstrap, "--topic", "restarted",
         "--group", "survivors", "--from-beginning", "--max-messages", "40", "--timeout-ms", "60000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in consumer.stdout), daemon=True)
    reader.start()

    first = producer(broker)
    for index in range(20):
        first.produce("restarted", value=f"before-{index}".encode(), partition=index % 2)
    first.flush(TIMEOUT)
    wait_until(lambda: len(lines) >= 20, timeout=TIMEOUT, message="the records produced before the restart")

    # A producer that lives across the restart: it reconnects and resends what was not acknowledged.
    sender = subprocess.Popen(
        [str(brook_binary()), "produce", "--bootstrap-server", broker.bootstrap, "--topic", "restarted",
         "--producer-property", "linger.ms=0"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for index in range(10):
        sender.stdin.write(f"after-{index}\n")
    sender.stdin.flush()
    wait_until(lambda: len(lines) >= 30, timeout=TIMEOUT, message="the producer's first records")
    broker.restart()
    for index in range(10, 20):
        sender.stdin.write(f"after-{index}\n")
    sender.stdin.close()
    assert sender.wait(timeout=90) == 0, sender.stderr.read()

    assert consumer.wait(timeout=90) == 0, consumer.stderr.read()
    reader.join(timeout=10)
    assert sorted(lines) == sorted([f"before-{index}" for index in range(20)] + [f"after-{index}" for index in range(20)])
