"""Network partitions of a five-broker cluster (issue 16's Jepsen-style suite): each broker in its
own network namespace (netns_support; cutting a pair of brokers drops their packets silently),
topics with replication factor 3 and min.insync.replicas 2 placed by hand, and the workloads of
workload_support running in the client namespace, which reaches every broker throughout: the
acks=all producer, a group member committing offsets, and transactional read-process-write.

1. A majority/minority split. The minority is the active controller and one more broker; between
   them they lead two input partitions (one with its follower on the same side), two output
   partitions and the coordinators of both groups. The majority must elect a controller, fence
   the minority and move those leaderships to in-sync replicas of its own, shrinking the ISRs;
   a second producer that knows only the majority must get acknowledgements from it. The
   minority's leaders, unable to shrink their ISRs without a controller, must acknowledge
   nothing that is then lost. Healed, the minority truncates what only it held and catches up.
2. A bridge (Jepsen's): two brokers, chosen to lead as much as possible, lose the controller and
   the broker beside it, while a fifth broker sees both sides. The controller keeps its quorum,
   fences the far side and moves its leaderships; a producer that knows only the near side gets
   acknowledgements.

The workloads talking to every broker are only required to get on once each fault has healed:
during one they may keep talking to a stale broker that still believes it leads (a producer
retrying there, a consumer told by it that it is the coordinator), as Kafka's clients do against
Kafka. After healing, the checkers of replication_support and workload_support: no acknowledged
record lost, moved or duplicated; committed group offsets never go backward and end at least at
the last accepted commit; read_committed output holds no aborted record and every input record
exactly once; the replicas of every partition identical up to the high watermark; every broker
stopping cleanly on SIGTERM. BROOK_EVIDENCE=DIR keeps a failure's worker files and broker logs.

The clean stop used to fail about one run in six, a broker never exiting after SIGTERM: a replica
fetcher cancelled at shutdown went on waiting for its leader's answer with no deadline, for ever
when none came. A cancelled wait now ends at once; no run has hung since."""
import itertools
import subprocess
import sys
import tempfile

from conftest import wait_until
from netns_support import netns_cluster  # noqa: F401  (fixture)
from replication_support import WORKER, ProducerWorker, check_replicas_agree, in_namespace, keep_evidence
from test_cluster_coordinators import java_partition
from test_cluster_netns import registered
from workload_support import Workloads

NODES = (1, 2, 3, 4, 5)
TOPIC = "split"
OUTPUT = "split-out"
PARTITIONS = 3
COORDINATOR_PARTITIONS = 10
INTERNAL = ("__consumer_offsets", "__transaction_state")
FAST = ["broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000", "replica.fetch.backoff.ms=200",
        "replica.socket.timeout.ms=3000", "group.initial.rebalance.delay.ms=0",
        f"offsets.topic.num.partitions={COORDINATOR_PARTITIONS}",
        f"transaction.state.log.num.partitions={COORDINATOR_PARTITIONS}"]


def create(cluster, topic: str, replicas: list[list[int]]) -> None:
    """The topic with each partition's replicas as given, the first its preferred leader."""
    assignment = "/".join(",".join(map(str, nodes)) for nodes in replicas)
    subprocess.run(in_namespace(cluster.client, [sys.executable, WORKER, "create", cluster.bootstrap(), topic, assignment,
                                                 "min.insync.replicas=2"]), check=True, timeout=90)


def partitions(cluster, topic: str, nodes: tuple[int, ...] = ()) -> dict[int, tuple[int, set[int], list[int]]]:
    """Each partition's (leader or -1, ISR, replicas) as `nodes` see it; empty when they cannot say."""
    return {int(row["Partition"]): (int(row["Leader"]) if row["Leader"].isdigit() else -1,
                                    {int(n) for n in row["Isr"].split(",") if n.isdigit()},
                                    [int(n) for n in row["Replicas"].split(",")])
            for row in cluster.describe(topic, nodes=nodes)}


def in_sync(cluster, *topics: str) -> bool:
    """Every partition of `topics` has a leader and all its replicas in its ISR."""
    for topic in topics:
        state = partitions(cluster, topic)
        if not state or not all(leader > 0 and isr == set(replicas) for leader, isr, replicas in state.values()):
            return False
    return True


def moved_away(cluster, gone: set[int], topic: str, seen_from: tuple[int, ...]) -> bool:
    """As `seen_from` sees it, no partition of `topic` is led by a broker of `gone`, and no ISR
    of a partition it leads holds one (the ISRs have shrunk)."""
    state = partitions(cluster, topic, seen_from)
    return bool(state) and all(leader not in gone and (leader < 0 or not isr & gone) for leader, isr, _ in state.values())


def settle(cluster, predicate, message: str, timeout: float = 60) -> None:
    """wait_until, and on a timeout the cluster's state as every broker sees it, for the report."""
    try:
        wait_until(predicate, timeout=timeout, interval=0.3, message=message)
    except AssertionError as error:
        seen = {node: {topic: partitions(cluster, topic, (node,)) for topic in (TOPIC, OUTPUT)} for node in NODES}
        quorum = {node: cluster.status(node) for node in NODES}
        raise AssertionError(f"{error}; quorum (leader, epoch) by node: {quorum}; partitions by node: {seen}") from None


def coordinated_by(cluster, nodes: set[int], prefix: str) -> str:
    """A group id whose coordinator (the leader of its __consumer_offsets partition) is one of `nodes`."""
    led = wait_until(lambda: len(found := partitions(cluster, "__consumer_offsets")) == COORDINATOR_PARTITIONS and found,
                     timeout=30, message="__consumer_offsets")
    return next(f"{prefix}-{n}" for n in range(1000)
                if led[java_partition(f"{prefix}-{n}", COORDINATOR_PARTITIONS)][0] in nodes)


def bridge_sides(cluster, controller: int) -> tuple[list[int], int, int]:
    """(far pair, bridge, the broker beside the controller): the far pair leads as many input and
    output partitions as any pair without the controller that leaves an input partition with
    two replicas on the near side (writable there)."""
    state = {**{("in", p): s for p, s in partitions(cluster, TOPIC).items()},
             **{("out", p): s for p, s in partitions(cluster, OUTPUT).items()}}
    pairs = [set(pair) for pair in itertools.combinations([n for n in NODES if n != controller], 2)
             if any(len(set(replicas) & set(pair)) <= 1 for (kind, _), (_, _, replicas) in state.items() if kind == "in")]
    far = max(pairs, key=lambda pair: (sum(leader in pair for leader, _, _ in state.values()), -min(pair)))
    bridge, beside = sorted(set(NODES) - far - {controller})
    return sorted(far), bridge, beside


def stop_every_broker(cluster, timeout: float = 30) -> None:
    """SIGTERM to every broker at once; each must have stopped cleanly within `timeout`."""
    for process in cluster.processes.values():
        process.terminate()
    for node, process in cluster.processes.items():
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            tail = "".join(cluster.outputs[node][-15:])
            raise AssertionError(f"broker {node} still runs {timeout:.0f} s after SIGTERM; its last output:\n{tail}") \
                from None
        assert status == 0, f"broker {node} exited with {status}"


def test_a_majority_minority_split_then_a_bridge_lose_nothing(netns_cluster):
    cluster = netns_cluster(5)
    for node in NODES:
        cluster.start(node, *FAST)
    controller, epoch = cluster.wait_for_leader()
    wait_until(lambda: registered(cluster, controller) == 5, timeout=40, message="five registered brokers")
    partner = min(n for n in NODES if n != controller)
    minority = {controller, partner}
    majority = tuple(sorted(set(NODES) - minority))
    a, b, d = majority
    create(cluster, TOPIC, [[partner, controller, a], [controller, a, b], [a, b, partner]])
    create(cluster, OUTPUT, [[controller, a, b], [partner, b, d], [a, d, controller]])
    # A group lookup creates __consumer_offsets, where groups coordinated by the minority are found.
    cluster.brook("groups", "describe", "--bootstrap-server", cluster.bootstrap(), "--group", "probe",
                  "--timeout-ms", "10000")
    settle(cluster, lambda: in_sync(cluster, TOPIC, OUTPUT, "__consumer_offsets"), "every replica in sync")

    work = tempfile.TemporaryDirectory(prefix="brook-partitions-")
    workloads = Workloads(cluster.bootstrap(), TOPIC, OUTPUT, PARTITIONS, work.name, namespace=cluster.client,
                          committing_group=coordinated_by(cluster, minority, "committer"),
                          transform_group=coordinated_by(cluster, minority, "transformer"))
    side_producers: list[ProducerWorker] = []
    try:
        workloads.progress()

        # 1. The controller and its partner cut off from the other three.
        print(f"split: controller {controller} and {partner} from {majority}")
        cluster.split(minority, set(majority))
        new_controller, _ = cluster.wait_for_leader(*majority, newer_than=epoch)
        assert new_controller in majority
        settle(cluster, lambda: all(moved_away(cluster, minority, topic, majority) for topic in (TOPIC, OUTPUT)),
               f"leaderships and ISRs moved away from {sorted(minority)}")
        side_producers.append(ProducerWorker(cluster.bootstrap(*majority), TOPIC, PARTITIONS, work.name,
                                             cluster.client, name="majority"))
        settle(cluster, lambda: side_producers[-1].acked_count() >= 200, "200 acknowledgements from the majority")
        cluster.heal()
        settle(cluster, lambda: in_sync(cluster, TOPIC, OUTPUT, *INTERNAL), "the minority back in every ISR", timeout=90)
        workloads.progress()

        # 2. A bridge: the far pair loses the controller's side; one broker reaches both sides.
        controller, _ = cluster.wait_for_leader()
        far, bridge, beside = bridge_sides(cluster, controller)
        near = (controller, beside, bridge)
        print(f"bridge: {far} from controller {controller} and {beside}, {bridge} between")
        cluster.split({controller, beside}, set(far))
        settle(cluster, lambda: all(moved_away(cluster, set(far), topic, near) for topic in (TOPIC, OUTPUT)),
               f"leaderships and ISRs moved away from {far}")
        side_producers.append(ProducerWorker(cluster.bootstrap(*near), TOPIC, PARTITIONS, work.name, cluster.client,
                                             name="near"))
        settle(cluster, lambda: side_producers[-1].acked_count() >= 200, "200 acknowledgements from the near side")
        cluster.heal()
        settle(cluster, lambda: in_sync(cluster, TOPIC, OUTPUT, *INTERNAL), "the far side back in every ISR", timeout=90)
        workloads.progress()

        watermarks = workloads.stop_and_check(*side_producers)
        placement = {topic: {p: replicas for p, (_, _, replicas) in partitions(cluster, topic).items()}
                     for topic in watermarks}
        stop_every_broker(cluster)
        for topic, topic_watermarks in watermarks.items():
            check_replicas_agree({n: d.name for n, d in cluster.directories.items()}, topic, topic_watermarks,
                                 placement[topic])
    except BaseException:
        keep_evidence(work.name, cluster.outputs)
        raise
    finally:
        workloads.kill()
        for producer in side_producers:
            producer.worker.kill()
    work.cleanup()
