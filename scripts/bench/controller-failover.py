#!/usr/bin/env python3
"""Controller failover: time from kill -9 of the active controller until a CreateTopics
succeeds again, over TRIALS trials (default 30) on a 3-node cluster on 127.0.0.1.

    python3 scripts/bench/controller-failover.py [TRIALS] [--override key=value ...]

Uses the `brook` that the interop tests use (BROOK_BINARY, else .build/debug or .build/release).
Each trial: find the leader, kill -9 it, then create a topic through the two survivors (a new
admin client each attempt, as a new kafka-topics run would) every 20 ms until one succeeds; then restart the killed node and wait until three brokers are
registered again. Prints each trial and p50/p90/p99/max in milliseconds.
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from quorum_support import Quorum  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    args = sys.argv[1:]
    trials = int(args.pop(0)) if args and args[0].isdigit() else 30
    overrides = [args[i + 1] for i in range(len(args)) if args[i] == "--override"]
    quorum = Quorum(3, extra={n: overrides for n in (1, 2, 3)}).start()
    results = []
    try:
        quorum.wait_for_leader()
        quorum.wait_for_brokers(3)
        for trial in range(trials):
            leader, epoch = quorum.wait_for_leader()
            survivors = [n for n in quorum.nodes if n != leader]
            quorum.nodes[leader].kill()
            killed = time.monotonic()
            attempts = 0
            while True:
                name = f"failover-{trial}-{attempts}"
                attempts += 1
                try:
                    # A new client each time, as a new kafka-topics run: a long-lived librdkafka
                    # admin client keeps waiting for the controller it knew.
                    admin = AdminClient({"bootstrap.servers": quorum.bootstrap(*survivors), "socket.timeout.ms": 1000})
                    admin.create_topics([NewTopic(name, 1, 1)], operation_timeout=1, request_timeout=1)[name].result(2)
                    break
                except Exception as error:
                    if attempts <= 3 or attempts % 50 == 0:
                        print(f"  attempt {attempts}: {error}", flush=True)
                    time.sleep(0.02)
            elapsed = (time.monotonic() - killed) * 1000
            results.append(elapsed)
            print(f"trial {trial + 1}: {elapsed:.0f} ms (leader {leader} killed in epoch {epoch})", flush=True)
            quorum.nodes[leader].start()
            quorum.wait_for_brokers(3, timeout=60)
    finally:
        quorum.close()
    print(f"trials {len(results)}  p50 {percentile(results, 0.5):.0f} ms  p90 {percentile(results, 0.9):.0f} ms  "
          f"p99 {percentile(results, 0.99):.0f} ms  max {max(results):.0f} ms  mean {statistics.mean(results):.0f} ms")


if __name__ == "__main__":
    main()
