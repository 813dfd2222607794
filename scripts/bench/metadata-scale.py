#!/usr/bin/env python3
"""Metadata scale: time and memory to create PARTITIONS partitions (default 10,000: 100 topics of
100) on a one-voter quorum node, and its start-up with that metadata as a ratio to an empty
node's start-up, in one run.

    python3 scripts/bench/metadata-scale.py [PARTITIONS] [--override key=value ...]

With `--override metadata.log.max.record.bytes.between.snapshots=N` small enough, the restart
loads a snapshot (`.checkpoint`) and replays only the log after it.

Uses the `brook` that the interop tests use (BROOK_BINARY, else .build/debug or .build/release).
Start-up is from process launch until the node has replayed its metadata and lists every topic
(for the empty node: until it serves as a registered broker). Memory is the broker's resident set (VmRSS).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from quorum_support import Quorum  # noqa: E402


def rss_mib(process) -> float:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def topics(bootstrap: str) -> int:
    """Partitions of the benchmark's topics once the node serves as a registered broker, else -1."""
    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    except Exception:  # noqa: BLE001  (not answering yet)
        return -1
    if not metadata.brokers:
        return -1
    return sum(len(t.partitions) for name, t in metadata.topics.items() if name.startswith("scale-"))


def start_until(node, bootstrap_check) -> float:
    began = time.monotonic()
    node.start(timeout=300)
    while not bootstrap_check():
        time.sleep(0.01)
    return time.monotonic() - began


def main() -> None:
    args = sys.argv[1:]
    partitions = int(args.pop(0)) if args and args[0].isdigit() else 10_000
    overrides = [args[i + 1] for i in range(len(args)) if args[i] == "--override"]
    per_topic = 100
    quorum = Quorum(1, extra={1: overrides}).start()
    try:
        quorum.wait_for_leader()
        quorum.wait_for_brokers(1)
        node = quorum.nodes[1]
        bootstrap = quorum.bootstrap(1)
        empty_rss = rss_mib(node.process)
        node.stop()
        empty_start = start_until(node, lambda: topics(bootstrap) == 0)

        admin = AdminClient({"bootstrap.servers": bootstrap})
        began = time.monotonic()
        names = [f"scale-{i:04d}" for i in range(partitions // per_topic)]
        for start in range(0, len(names), 10):
            batch = [NewTopic(name, per_topic, 1) for name in names[start:start + 10]]
            for future in admin.create_topics(batch, operation_timeout=60).values():
                future.result(120)
        created = time.monotonic() - began
        while topics(bootstrap) < partitions:
            time.sleep(0.05)
        full_rss = rss_mib(node.process)
        node.stop()
        full_start = start_until(node, lambda: topics(bootstrap) == partitions)
        restarted_rss = rss_mib(node.process)
        loaded = [line.strip() for line in node.output if "loaded metadata snapshot" in line]
        print(f"create {partitions} partitions: {created:.2f} s ({partitions / created:.0f} partitions/s)")
        print(f"resident memory: empty {empty_rss:.1f} MiB, with them {full_rss:.1f} MiB, after restart {restarted_rss:.1f} MiB")
        print(f"snapshot at restart: {loaded[-1].split('loaded metadata snapshot ')[-1] if loaded else 'none (whole log replayed)'}")
        print(f"start-up: empty {empty_start * 1000:.0f} ms, with {partitions} partitions {full_start * 1000:.0f} ms "
              f"(ratio {full_start / empty_start:.2f})")
    finally:
        quorum.close()


if __name__ == "__main__":
    main()
