"""A KIP-848 group member (confluent-kafka, `group.protocol=consumer`) run as its own process by
the interop tests, so that a test can kill it with SIGKILL: no leave heartbeat, no close. It
creates its consumer, prints `ready`, subscribes to TOPIC in GROUP once a line arrives on stdin,
and then prints its assignment (`assigned 0,1`) every time it changes. It polls until it is
killed, its stdin closes or DEADLINE_SECONDS pass.

usage: kip848_member.py BOOTSTRAP GROUP TOPIC
"""
import selectors
import sys
import time

from confluent_kafka import Consumer

DEADLINE_SECONDS = 120


def main() -> int:
    bootstrap, group, topic = sys.argv[1:4]
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "group.protocol": "consumer",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.list_topics(timeout=30)
    print("ready", flush=True)
    if not sys.stdin.readline():
        return 0
    consumer.subscribe([topic])
    stdin = selectors.DefaultSelector()
    stdin.register(sys.stdin, selectors.EVENT_READ)
    shown = None
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline and not stdin.select(timeout=0):
        consumer.poll(0.05)
        partitions = sorted(tp.partition for tp in consumer.assignment())
        if partitions != shown:
            shown = partitions
            print("assigned " + ",".join(str(p) for p in partitions), flush=True)
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
