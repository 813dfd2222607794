#!/usr/bin/env python3
"""Replication benchmarks (issue 16), on three `brook` processes on 127.0.0.1 in one run:

    python3 scripts/bench/replication.py failover [TRIALS]     (default 30)
    python3 scripts/bench/replication.py cost [RECORDS]         (default 2,000,000 of 100 B)
    python3 scripts/bench/replication.py catchup [MiB]          (default 1024)

failover: a topic with one partition, replication factor 3, min.insync.replicas 2. Each trial
kills (-9) the partition's leader, then produces one acks=all record after another until one is
acknowledged; the time runs from the kill to that acknowledgement. The killed broker restarts
and rejoins the ISR before the next trial. Printed: p50, p99, max, and each as a ratio to
broker.session.timeout.ms (3000 here), the time the controller waits before it fences a silent
broker, the floor for a kill -9.

cost: `brook perf produce` (acks=all, pre-built batches) to a topic with replication factor 1,
then to one with 3 (min.insync.replicas 2), six partitions each, on the same three brokers, at
100 B and 1 KiB; printed: records/s and MB/s of each and the RF 3 / RF 1 ratio, then the
end-to-end p99 latency of RF 3 at half its peak rate.

catchup: a topic with one partition on brokers 1, 2 and 3 (min.insync.replicas 2); broker 3 stops,
MiB of 1 KiB records are written through the other two (`brook perf produce`, acks=all), then
broker 3 starts again; the time runs from its start until the ISR holds it again. The reference,
measured in the same run: copying the leader's segment files over a loopback TCP connection
(sendfile) into a file, as a follower's fetches end up doing. Printed: both times, the MB/s of
each, and their ratio.

Uses the `brook` the interop tests use (BROOK_BINARY, else .build/debug or .build/release).
"""
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))

from confluent_kafka import KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from conftest import brook_binary, wait_until  # noqa: E402
from quorum_support import Quorum  # noqa: E402

SESSION_MS = 3000
SETTINGS = ["broker.heartbeat.interval.ms=500", f"broker.session.timeout.ms={SESSION_MS}",
            "replica.fetch.backoff.ms=200"]
FINAL = re.compile(r"^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\).*?([\d.]+) ms 99th", re.M)


def state(bootstrap: str, topic: str) -> tuple[int, list[int]]:
    try:
        found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=5).topics.get(topic)
    except KafkaException:
        return (-1, [])
    if found is None or found.error is not None or 0 not in found.partitions:
        return (-1, [])
    return (found.partitions[0].leader, sorted(found.partitions[0].isrs))


def started() -> Quorum:
    quorum = Quorum(3, extra={n: list(SETTINGS) for n in (1, 2, 3)}).start()
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    return quorum


def create(quorum: Quorum, topic: str, partitions: int, replication: int) -> None:
    config = {"min.insync.replicas": "2"} if replication > 1 else {}
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})  # kept until the result comes
    admin.create_topics([NewTopic(topic, partitions, replication, config=config)])[topic].result(30)


def failover(trials: int) -> None:
    quorum = started()
    try:
        create(quorum, "failover", 1, 3)
        wait_until(lambda: state(quorum.bootstrap(), "failover")[1] == [1, 2, 3], timeout=30, message="in sync")
        times = []
        for trial in range(trials):
            leader = state(quorum.bootstrap(), "failover")[0]
            others = [n for n in (1, 2, 3) if n != leader]
            producer = Producer({"bootstrap.servers": quorum.bootstrap(*others), "acks": "all", "linger.ms": 0,
                                 "retry.backoff.ms": 20, "retry.backoff.max.ms": 100, "topic.metadata.refresh.interval.ms": 100,
                                 "message.timeout.ms": 60000})
            producer.produce("failover", b"warm")
            assert producer.flush(30) == 0
            done: list[float] = []
            quorum.nodes[leader].kill()
            killed = time.monotonic()
            producer.produce("failover", b"after", on_delivery=lambda error, _: error is None and done.append(time.monotonic()))
            producer.flush(60)
            assert done, "no acknowledgement within 60 s"
            times.append((done[0] - killed) * 1000)
            print(f"trial {trial + 1}: {times[-1]:.0f} ms (leader {leader} killed)", flush=True)
            quorum.nodes[leader].start()
            wait_until(lambda: state(quorum.bootstrap(), "failover")[1] == [1, 2, 3], timeout=60, message="back in sync")
        times.sort()
        p50 = statistics.median(times)
        p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
        print(f"failover over {len(times)} trials: p50 {p50:.0f} ms ({p50 / SESSION_MS:.2f}x the session timeout), "
              f"p99 {p99:.0f} ms ({p99 / SESSION_MS:.2f}x), max {times[-1]:.0f} ms")
    finally:
        quorum.close()


def perf(quorum: Quorum, topic: str, records: int, size: int, throughput: float = -1, nodes: tuple[int, ...] = ()
         ) -> tuple[float, float, float]:
    result = subprocess.run([str(brook_binary()), "perf", "produce", "--bootstrap-server", quorum.bootstrap(*nodes), "--topic", topic,
                             "--num-records", str(records), "--record-size", str(size), "--acks", "all",
                             "--throughput", str(throughput)], capture_output=True, text=True, timeout=900)
    match = FINAL.search(result.stdout)
    assert result.returncode == 0 and match, result.stdout + result.stderr
    return float(match.group(2)), float(match.group(3)), float(match.group(4))


def cost(records: int) -> None:
    quorum = started()
    try:
        for size, count in ((100, records), (1024, max(1, records // 5))):
            rates = {}
            for replication in (1, 3):
                topic = f"cost-{size}-rf{replication}"
                create(quorum, topic, 6, replication)
                time.sleep(1)
                rates[replication] = perf(quorum, topic, count, size)
                print(f"{size} B, RF {replication}: {rates[replication][0]:.0f} records/s, {rates[replication][1]:.1f} MB/s, "
                      f"p99 {rates[replication][2]:.1f} ms", flush=True)
            print(f"{size} B: RF 3 / RF 1 = {rates[3][0] / rates[1][0]:.2f}")
            half = rates[3][0] / 2
            topic = f"cost-{size}-half"
            create(quorum, topic, 6, 3)
            time.sleep(1)
            _, _, p99 = perf(quorum, topic, max(1, int(half * 20)), size, throughput=half)
            print(f"{size} B, RF 3 at {half:.0f} records/s (half the peak): p99 {p99:.1f} ms", flush=True)
    finally:
        quorum.close()


def copy_over_loopback(files: list[Path], target: Path) -> float:
    """Seconds to send `files` over a loopback TCP connection (sendfile) into `target`."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def receive() -> None:
        connection, _ = server.accept()
        buffer = bytearray(1 << 20)
        with connection, open(target, "wb") as out:
            while (count := connection.recv_into(buffer)) > 0:
                out.write(memoryview(buffer)[:count])

    receiver = threading.Thread(target=receive)
    receiver.start()
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sender:
        for path in files:
            with open(path, "rb") as source:
                sender.sendfile(source)
    receiver.join()
    elapsed = time.monotonic() - start
    server.close()
    return elapsed


def catchup(mebibytes: int) -> None:
    quorum = started()
    try:
        admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
        admin.create_topics([NewTopic("catchup", num_partitions=1, replica_assignment=[[1, 2, 3]],
                                      config={"min.insync.replicas": "2"})])["catchup"].result(30)
        wait_until(lambda: state(quorum.bootstrap(), "catchup") == (1, [1, 2, 3]), timeout=30, message="in sync")
        quorum.nodes[3].stop()
        wait_until(lambda: state(quorum.bootstrap(1, 2), "catchup")[1] == [1, 2], timeout=30, message="3 out of the ISR")
        perf(quorum, "catchup", mebibytes * 1024, 1024, nodes=(1, 2))
        segments = sorted((quorum.nodes[1].data_dir / "catchup-0").glob("*.log"))
        written = sum(path.stat().st_size for path in segments)

        start = time.monotonic()
        quorum.nodes[3].start()
        wait_until(lambda: state(quorum.bootstrap(1, 2), "catchup")[1] == [1, 2, 3], timeout=600, interval=0.05,
                   message="3 back in the ISR")
        rejoined = time.monotonic() - start
        reference = copy_over_loopback(segments, quorum.nodes[2].data_dir / "copy.bin")
        (quorum.nodes[2].data_dir / "copy.bin").unlink()
        print(f"catch-up of {written / 1e6:.0f} MB: {rejoined:.2f} s ({written / 1e6 / rejoined:.0f} MB/s); "
              f"loopback copy {reference:.2f} s ({written / 1e6 / reference:.0f} MB/s); "
              f"catch-up / copy = {rejoined / reference:.2f}", flush=True)
    finally:
        quorum.close()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "failover"
    if mode == "failover":
        failover(int(sys.argv[2]) if len(sys.argv) > 2 else 30)
    elif mode == "cost":
        cost(int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000)
    elif mode == "catchup":
        catchup(int(sys.argv[2]) if len(sys.argv) > 2 else 1024)
    else:
        raise SystemExit(f"unknown mode {mode}")
