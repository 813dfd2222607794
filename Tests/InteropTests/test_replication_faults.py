"""Replication under faults (issue 16's short suite; `make chaos` runs longer, randomised ones):
three brokers, a topic with replication factor 3 and min.insync.replicas 2, an idempotent acks=all
producer recording every acknowledgement. Faults: kill -9 of a partition leader, of the active
controller, a leader paused with SIGSTOP until it is fenced and then woken, a follower restarted
with the unsynced tail of its log gone. After each heals, the checker of replication_support:
no acknowledged record lost or moved, no duplicates, and every replica identical up to the high
watermark.

The randomised test draws ROUNDS faults from a seed: `make test` runs two rounds of a fixed
seed, `make chaos` runs BROOK_CHAOS_ROUNDS rounds of a random seed (BROOK_CHAOS_SEED replays
one); a failure names the seed."""
import os
import random
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


def producing_cluster(quorum_factory):
    """Three brokers, the topic in sync, and the acks=all producer running."""
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3, config={"min.insync.replicas": "2"})])[TOPIC].result(30)
    wait_until(lambda: fully_in_sync(quorum), timeout=30, message="every replica in sync")
    work = tempfile.TemporaryDirectory(prefix="brook-faults-")
    return quorum, work, ProducerWorker(quorum.bootstrap(), TOPIC, PARTITIONS, work.name)


def progress(worker: ProducerWorker, more: int, timeout: float = 60) -> None:
    """Waits until `more` further records are acknowledged: the cluster is serving again."""
    target = worker.acked_count() + more
    wait_until(lambda: worker.acked_count() >= target, timeout=timeout, interval=0.2, message=f"{more} more acknowledgements")


def test_no_acknowledged_record_is_lost_through_kills_pauses_and_a_lost_tail(quorum_factory):
    quorum, work, worker = producing_cluster(quorum_factory)
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
        lose_tail(quorum, follower)
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


def lose_tail(quorum, node: int) -> None:
    """Cuts the last 1000 bytes off each of the node's partitions' active segments (it is stopped)."""
    for partition in range(PARTITIONS):
        folder = os.path.join(str(quorum.nodes[node].data_dir), f"{TOPIC}-{partition}")
        segment = sorted(f for f in os.listdir(folder) if f.endswith(".log"))[-1]
        path = os.path.join(folder, segment)
        os.truncate(path, max(0, os.path.getsize(path) - 1000))


def inject(quorum, worker: ProducerWorker, rng: random.Random) -> str:
    """One fault drawn from `rng`, healed before returning; returns its name."""
    fault = rng.choice(["kill-leader", "pause-leader", "kill-controller", "lose-tail", "kill-two"])
    state = partitions(quorum.bootstrap())
    leader = state[rng.randrange(PARTITIONS)][0]
    if fault == "kill-leader":
        quorum.nodes[leader].kill()
        progress(worker, 200)
        quorum.nodes[leader].start()
    elif fault == "pause-leader":
        quorum.nodes[leader].process.send_signal(signal.SIGSTOP)
        others = [n for n in (1, 2, 3) if n != leader]
        wait_until(lambda: (s := partitions(quorum.bootstrap(*others))) and all(l in others for l, _ in s.values()),
                   timeout=30, message="every partition led by a broker not paused")
        progress(worker, 200)
        quorum.nodes[leader].process.send_signal(signal.SIGCONT)
    elif fault == "kill-controller":
        controller = AdminClient({"bootstrap.servers": quorum.bootstrap()}).list_topics(timeout=10).controller_id
        quorum.nodes[controller].kill()
        progress(worker, 200)
        quorum.nodes[controller].start()
    elif fault == "lose-tail":
        victim = rng.choice([1, 2, 3])
        quorum.nodes[victim].kill()
        lose_tail(quorum, victim)
        progress(worker, 200)
        quorum.nodes[victim].start()
    else:
        # Two brokers in turn: with one left, min.insync.replicas 2 stops acks=all until one returns.
        first, second = rng.sample([1, 2, 3], 2)
        quorum.nodes[first].kill()
        progress(worker, 100)
        quorum.nodes[second].kill()
        quorum.nodes[first].start()
        progress(worker, 100)
        quorum.nodes[second].start()
    wait_until(lambda: fully_in_sync(quorum), timeout=90, message=f"every replica in sync after {fault}")
    return fault


def test_random_faults_from_a_seed(quorum_factory):
    rounds = int(os.environ.get("BROOK_CHAOS_ROUNDS", "2"))
    seed = int(os.environ.get("BROOK_CHAOS_SEED", "1607" if "BROOK_CHAOS_ROUNDS" not in os.environ
                              else str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print(f"replication chaos: seed {seed}, {rounds} rounds")
    quorum, work, worker = producing_cluster(quorum_factory)
    faults = []
    try:
        progress(worker, 200)
        for _ in range(rounds):
            faults.append(inject(quorum, worker, rng))
        progress(worker, 100)
    except Exception as error:
        raise AssertionError(f"seed {seed} failed after {faults}: {error}") from error
    finally:
        acked = worker.stop()
    consumed, watermarks = consume_everything(quorum.bootstrap(), TOPIC, PARTITIONS, work.name)
    try:
        check_history(acked, consumed, watermarks)
        wait_until(lambda: fully_in_sync(quorum), timeout=60, message="every replica in sync at the end")
        for node in quorum.nodes.values():
            node.stop()
        check_replicas_agree({n: str(node.data_dir) for n, node in quorum.nodes.items()}, TOPIC, watermarks)
    except AssertionError as error:
        raise AssertionError(f"seed {seed} ({faults}): {error}") from error
    work.cleanup()
