"""Replication across real links (each broker in its own network namespace, see netns_support):
the leader of a partition is cut off the network while an idempotent acks=all producer, in a
namespace of its own, keeps writing. The cut leader is fenced and an in-sync replica takes over;
`brook topics describe --under-replicated-partitions` shows the shrunken ISRs; when the link
returns, the old leader truncates what it alone wrote, catches up and rejoins. The checker of
replication_support then finds no acknowledged record lost, moved or duplicated, and every
replica identical up to the high watermark."""
import signal
import tempfile

from cli_support import succeeded
from conftest import wait_until
from netns_support import netns_cluster  # noqa: F401  (fixture)
from replication_support import ProducerWorker, check_history, check_replicas_agree, consume_everything
from test_cluster_netns import registered

TOPIC = "cut"
PARTITIONS = 3
FAST = ["broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000", "replica.fetch.backoff.ms=200",
        "replica.socket.timeout.ms=3000"]


def describe(cluster, *flags: str, nodes: tuple[int, ...] = ()) -> list[dict[str, str]]:
    """The partition lines of `brook topics describe`, as field dicts (empty when it cannot say)."""
    return cluster.describe(TOPIC, *flags, nodes=nodes)


def in_sync(cluster, *nodes: int) -> bool:
    rows = describe(cluster, nodes=nodes)
    return len(rows) == PARTITIONS and all(r["Leader"] != "none" and sorted(r["Isr"].split(",")) == ["1", "2", "3"]
                                           for r in rows)


def progress(worker: ProducerWorker, more: int, timeout: float = 60) -> None:
    target = worker.acked_count() + more
    wait_until(lambda: worker.acked_count() >= target, timeout=timeout, interval=0.2, message=f"{more} more acknowledgements")


def test_a_leader_cut_off_the_network_loses_no_acknowledged_record(netns_cluster):
    cluster = netns_cluster(3)
    for node in (1, 2, 3):
        cluster.start(node, *FAST)
    leader, _ = cluster.wait_for_leader()
    wait_until(lambda: registered(cluster, leader) == 3, timeout=30, message="three registered brokers")
    succeeded(cluster.brook("topics", "create", "--bootstrap-server", cluster.bootstrap(), "--topic", TOPIC,
                            "--partitions", str(PARTITIONS), "--replication-factor", "3", "--config", "min.insync.replicas=2"))
    wait_until(lambda: in_sync(cluster), timeout=40, message="every replica in sync")
    assert describe(cluster, "--under-replicated-partitions") == []

    work = tempfile.TemporaryDirectory(prefix="brook-netns-faults-")
    worker = ProducerWorker(cluster.bootstrap(), TOPIC, PARTITIONS, work.name, namespace=cluster.client)
    try:
        progress(worker, 300)
        cut = int(describe(cluster)[0]["Leader"])
        others = tuple(n for n in (1, 2, 3) if n != cut)
        cluster.set_link(cut, up=False)
        wait_until(lambda: (rows := describe(cluster, nodes=others)) and rows[0]["Leader"] in {str(n) for n in others},
                   timeout=40, message="partition 0 led by a broker still connected")
        progress(worker, 300)
        lagging = describe(cluster, "--under-replicated-partitions", nodes=others)
        assert len(lagging) == PARTITIONS and all(str(cut) not in r["Isr"].split(",") for r in lagging), lagging

        cluster.set_link(cut, up=True)
        wait_until(lambda: in_sync(cluster), timeout=60, message="the cut leader back in every ISR")
        progress(worker, 100)
    finally:
        acked = worker.stop()

    consumed, watermarks = consume_everything(cluster.bootstrap(), TOPIC, PARTITIONS, work.name, namespace=cluster.client)
    check_history(acked, consumed, watermarks)
    for process in cluster.processes.values():
        process.send_signal(signal.SIGTERM)
    for process in cluster.processes.values():
        process.wait(timeout=30)
    check_replicas_agree({n: d.name for n, d in cluster.directories.items()}, TOPIC, watermarks)
    work.cleanup()
