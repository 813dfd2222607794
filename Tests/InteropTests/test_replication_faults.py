"""Replication under faults (issue 16's short suite; `make chaos` runs longer, randomised ones):
three brokers, a topic with replication factor 3 and min.insync.replicas 2, an idempotent acks=all
producer recording every acknowledgement. Faults: kill -9 of a partition leader, of the active
controller, a leader paused with SIGSTOP until it is fenced and then woken, a follower restarted
with the unsynced tail of its log gone. After each heals, the checker of replication_support:
no acknowledged record lost or moved, no duplicates, and every replica identical up to the high
watermark."""
import os
import signal
import tempfile

from confluent_kafka.admin import AdminClient, NewTopic

from conftest import wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)
from replication_support import ProducerWorker, check_history, check_replicas_agree, consume_everything

TOPIC = "faults"
PARTITIONS = 3
FAST = ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000",
        "replica.fetch.backoff.ms=200"]


def partitions(bootstrap: str) -> dict[int, tuple[int, list[int]]]:
    """Each partition's (leader, isr), as Metadata tells librdkafka; empty when it cannot say."""
    try:
        found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(TOPIC, timeout=5).topics.get(TOPIC)
    except Exception:  # noqa: BLE001  (a broker just killed)
        return {}
    if found is None or found.error is not None:
        return {}
    return {p.id: (p.leader, sorted(p.isrs)) for p in found.partitions.values()}


def fully_in_sync(quorum, *nodes: int) -> bool:
    state = partitions(quorum.bootstrap(*nodes))
    return len(state) == PARTITIONS and all(leader >= 0 and isr == [1, 2, 3] for leader, isr in state.values())


def progress(worker: ProducerWorker, more: int, timeout: float = 60) -> None:
    """Waits until `more` further records are acknowledged: the cluster is serving again."""
    target = worker.acked_count() + more
    wait_until(lambda: worker.acked_count() >= target, timeout=timeout, interval=0.2, message=f"{more} more acknowledgements")


def test_no_acknowledged_record_is_lost_through_kills_pauses_and_a_lost_tail(quorum_factory):
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3, config={"min.insync.replicas": "2"})])[TOPIC].result(30)
    wait_until(lambda: fully_in_sync(quorum), timeout=30, message="every replica in sync")

    work = tempfile.TemporaryDirectory(prefix="brook-faults-")
    worker = ProducerWorker(quorum.bootstrap(), TOPIC, PARTITIONS, work.name)
    try:
        progress(worker, 300)

        # kill -9 of partition 0's leader; it comes back as a follower and rejoins the ISR.
        victim = partitions(quorum.bootstrap())[0][0]
        quorum.nodes[victim].kill()
        progress(worker, 300)
        quorum.nodes[victim].start()
        wait_until(lambda: fully_in_sync(quorum), timeout=60, message="the killed leader back in every ISR")

        # A leader paused past its session: fenced, replaced; woken, it must not take writes.
        victim = partitions(quorum.bootstrap())[1][0]
        quorum.nodes[victim].process.send_signal(signal.SIGSTOP)
        others = [n for n in (1, 2, 3) if n != victim]
        wait_until(lambda: (s := partitions(quorum.bootstrap(*others))) and s[1][0] in others, timeout=30,
                   message="partition 1 led by another broker")
        progress(worker, 300)
        quorum.nodes[victim].process.send_signal(signal.SIGCONT)
        wait_until(lambda: fully_in_sync(quorum), timeout=60, message="the paused leader back in every ISR")

        # kill -9 of the active controller.
        controller = AdminClient({"bootstrap.servers": quorum.bootstrap()}).list_topics(timeout=10).controller_id
        quorum.nodes[controller].kill()
        progress(worker, 300)
        quorum.nodes[controller].start()
        wait_until(lambda: fully_in_sync(quorum), timeout=60, message="the killed controller back in every ISR")

        # A follower whose last writes never reached its disk: its segments lose their tail.
        follower = next(n for n in (1, 2, 3) if n != partitions(quorum.bootstrap())[2][0])
        quorum.nodes[follower].kill()
        for partition in range(PARTITIONS):
            folder = os.path.join(str(quorum.nodes[follower].data_dir), f"{TOPIC}-{partition}")
            segment = sorted(f for f in os.listdir(folder) if f.endswith(".log"))[-1]
            path = os.path.join(folder, segment)
            os.truncate(path, max(0, os.path.getsize(path) - 1000))
        progress(worker, 200)
        quorum.nodes[follower].start()
        wait_until(lambda: fully_in_sync(quorum), timeout=60, message="the follower with a lost tail back in every ISR")
        progress(worker, 100)
    finally:
        acked = worker.stop()

    consumed, watermarks = consume_everything(quorum.bootstrap(), TOPIC, PARTITIONS, work.name)
    check_history(acked, consumed, watermarks)
    assert len(acked) >= 1500
    wait_until(lambda: fully_in_sync(quorum), timeout=60, message="every replica in sync at the end")
    for node in quorum.nodes.values():
        node.stop()
    check_replicas_agree({n: str(node.data_dir) for n, node in quorum.nodes.items()}, TOPIC, watermarks)
    work.cleanup()
