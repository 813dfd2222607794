#!/usr/bin/env python3
"""Scale out: the produce throughput a cluster of 1, 2 and 3 brokers takes from the same client
load, each broker in its own network namespace (veth pairs on a bridge, as separate hosts) and
the client in another. Run as root; removes what it makes.

    RDKPERF=/path/to/rdkafka_performance BROOK_BINARY=.build-rel/release/brook \
        python3 scripts/bench/scale-out.py [ROUNDS] [RECORDS] [SIZE]

Each configuration is a fresh cluster of N combined nodes (voter and broker) formatted for one
cluster; a topic of 6 partitions (placed round the brokers) takes RECORDS (default 2,000,000)
records of SIZE bytes (1024) from librdkafka's rdkafka_performance with acks=1 and its default
batching (linger.ms 5). Rounds alternate the order of the configurations. Prints each run and
the median MB/s of each N with its ratio to one broker.
"""
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))

from conftest import wait_until  # noqa: E402
from netns_support import NetnsCluster, remove_everything  # noqa: E402

SUMMARY = re.compile(r"(\d+) msgs/s and ([0-9.]+) MB/s")


def brokers_registered(cluster: NetnsCluster) -> int:
    result = cluster.brook("cluster", "describe", "--bootstrap-server", cluster.bootstrap(), "--timeout-ms", "3000")
    rows = result.stdout.splitlines()[3:] if result.returncode == 0 else []
    return sum(1 for row in rows if row.split()[-1:] == ["registered"])


def placement(cluster: NetnsCluster) -> dict[int, int]:
    """Partition -> leader of the benchmark topic, as `brook topics describe` prints it."""
    result = cluster.brook("topics", "describe", "--bootstrap-server", cluster.bootstrap(), "--topic", "scale")
    leaders = {}
    for line in result.stdout.splitlines():
        match = re.search(r"Partition: (\d+)\s+Leader: (-?\d+)", line)
        if match:
            leaders[int(match.group(1))] = int(match.group(2))
    return leaders


def run(count: int, records: int, size: int, rdkperf: str) -> float:
    cluster = NetnsCluster(count).build()
    try:
        for node in range(1, count + 1):
            cluster.start(node)
        cluster.wait_for_leader()
        wait_until(lambda: brokers_registered(cluster) == count, timeout=60, interval=0.2, message=f"{count} brokers")
        # Registered brokers are fenced until caught up: creation succeeds once all are usable.
        wait_until(lambda: cluster.brook("topics", "create", "--bootstrap-server", cluster.bootstrap(), "--topic", "scale",
                                         "--partitions", "6", "--if-not-exists").returncode == 0
                   and len(set(placement(cluster).values())) == count,
                   timeout=60, interval=0.5, message="the topic on every broker")
        out = subprocess.run(
            ["ip", "netns", "exec", cluster.client, rdkperf, "-P", "-t", "scale", "-s", str(size), "-c", str(records),
             "-b", cluster.bootstrap(), "-X", "acks=1", "-X", "linger.ms=5", "-X", "message.send.max.retries=2147483647",
             "-X", "retry.backoff.ms=100"],
            capture_output=True, text=True, timeout=900).stdout
        summary = [line for line in out.splitlines() if "messages produced" in line and "delivered" in line]
        match = SUMMARY.search(summary[-1]) if summary else None
        assert match, out[-2000:]
        print(f"{count} broker(s): {summary[-1].strip()}", flush=True)
        return float(match.group(2))
    finally:
        cluster.close()


def main() -> None:
    rdkperf = os.environ.get("RDKPERF")
    if not rdkperf:
        sys.exit("set RDKPERF to librdkafka's rdkafka_performance")
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
    results: dict[int, list[float]] = {1: [], 2: [], 3: []}
    try:
        for round_number in range(rounds):
            order = [1, 2, 3] if round_number % 2 == 0 else [3, 2, 1]
            for count in order:
                results[count].append(run(count, records, size, rdkperf))
    finally:
        remove_everything()
    base = statistics.median(results[1])
    for count, values in results.items():
        median = statistics.median(values)
        print(f"{count} broker(s): median {median:.1f} MB/s over {values}, ratio to one broker {median / base:.2f}")


if __name__ == "__main__":
    main()
