#!/usr/bin/env python3
"""Snapshot catch-up: how long a broker that joins a cluster whose metadata holds PARTITIONS
partitions (default 10,000: 100 topics of 100) takes to serve them all, when the leader still
has its whole metadata log (the broker replays it) against when snapshots have replaced the log
(the broker fetches the leader's snapshot with FetchSnapshot and replays only what follows), in
one run.

    python3 scripts/bench/snapshot-catchup.py [PARTITIONS]

One voter (also a broker) holds the metadata; a broker-only node (`process.roles=broker`)
joins once the partitions exist. The time runs from the broker's launch until its Metadata
lists every partition. Uses the `brook` the interop tests use (BROOK_BINARY, else .build/debug
or .build/release).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))

from confluent_kafka import KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from quorum_support import Quorum  # noqa: E402

COMPACTING = ["metadata.log.max.record.bytes.between.snapshots=65536", "metadata.max.retention.bytes=0",
              "metadata.log.segment.bytes=65536"]


def partitions_on(bootstrap: str) -> int:
    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    except Exception:  # noqa: BLE001  (not answering yet)
        return -1
    return sum(len(t.partitions) for name, t in metadata.topics.items() if name.startswith("scale-"))


def log_start(quorum: Quorum) -> int:
    directory = Path(quorum.directories[0].name) / "__cluster_metadata-0"
    return min((int(path.stem) for path in directory.glob("*.log")), default=0)


def catch_up(partitions: int, compacting: bool) -> tuple[float, str]:
    quorum = Quorum(1, extra={1: COMPACTING if compacting else []}, brokers=1)
    try:
        quorum.nodes[1].start()
        quorum.wait_for_leader(1)
        while not any("registered as a broker" in line for line in quorum.nodes[1].output):
            time.sleep(0.05)
        admin = AdminClient({"bootstrap.servers": quorum.bootstrap(1)})
        names = [f"scale-{i:04d}" for i in range(partitions // 100)]
        for start in range(0, len(names), 10):
            batch = names[start:start + 10]
            while True:
                # Right after its start the node may not yet be told as the controller: retry.
                try:
                    for future in admin.create_topics([NewTopic(n, 100, 1) for n in batch], operation_timeout=60).values():
                        future.result(120)
                    break
                except KafkaException as error:
                    if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        time.sleep(0.2)
                    else:
                        break
        while partitions_on(quorum.bootstrap(1)) < partitions:
            time.sleep(0.05)
        if compacting:
            while log_start(quorum) == 0:
                time.sleep(0.05)
        broker = quorum.nodes[2]
        began = time.monotonic()
        broker.start(timeout=300)
        while partitions_on(quorum.bootstrap(2)) < partitions:
            time.sleep(0.01)
        elapsed = time.monotonic() - began
        how = "installed the leader's snapshot" if any("installed the leader's metadata snapshot" in line
                                                        for line in broker.output) else "replayed the log"
        return elapsed, f"{how}; leader's log starts at offset {log_start(quorum)}"
    finally:
        quorum.close()


def main() -> None:
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    replay, replay_note = catch_up(partitions, compacting=False)
    snapshot, snapshot_note = catch_up(partitions, compacting=True)
    print(f"whole log: {replay * 1000:.0f} ms ({replay_note})")
    print(f"snapshot:  {snapshot * 1000:.0f} ms ({snapshot_note})")
    print(f"ratio snapshot / whole log: {snapshot / replay:.2f}")


if __name__ == "__main__":
    main()
