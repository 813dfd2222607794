"""The quorum on real links: three and five `brook` processes, each in its own network namespace
with its own address, joined by a bridge (see netns_support). Cutting a node's link (no refused
connection, just silence, as when a host drops off the network) and healing it; kill -9 and
SIGSTOP; a majority lost and regained."""
import os
import signal

from cli_support import succeeded
from conftest import wait_until
from netns_support import netns_cluster  # noqa: F401  (fixture)


def topics(cluster, node: int) -> set[str]:
    result = cluster.brook("topics", "list", "--bootstrap-server", cluster.bootstrap(node), "--timeout-ms", "5000")
    return set(result.stdout.split()) if result.returncode == 0 else set()


def registered(cluster, node: int) -> int:
    """How many brokers `brook cluster describe` lists as registered and serving (0 while it cannot say)."""
    result = cluster.brook("cluster", "describe", "--bootstrap-server", cluster.bootstrap(node), "--timeout-ms", "3000")
    rows = result.stdout.splitlines()[3:] if result.returncode == 0 else []
    return sum(1 for row in rows if row.split()[-1:] == ["registered"])


def create(cluster, node: int, topic: str) -> None:
    succeeded(cluster.brook("topics", "create", "--bootstrap-server", cluster.bootstrap(node), "--topic", topic,
                            "--partitions", "3", "--replication-factor", "1"))


def started(netns_cluster, count: int, timeout: float):
    """`count` nodes started, a leader elected and every node registered as a broker."""
    cluster = netns_cluster(count)
    for node in range(1, count + 1):
        cluster.start(node)
    leader, epoch = cluster.wait_for_leader()
    wait_until(lambda: registered(cluster, leader) == count, timeout=timeout, message=f"{count} registered brokers")
    return cluster, leader, epoch


def test_a_leader_cut_off_is_replaced_and_rejoins_as_a_follower_when_its_link_returns(netns_cluster):
    cluster, leader, epoch = started(netns_cluster, 3, timeout=30)
    create(cluster, leader, "before-the-cut")

    cluster.set_link(leader, up=False)
    survivors = [n for n in (1, 2, 3) if n != leader]
    new_leader, new_epoch = cluster.wait_for_leader(*survivors, newer_than=epoch)
    assert new_leader in survivors
    assert "before-the-cut" in topics(cluster, new_leader)
    create(cluster, new_leader, "during-the-cut")

    cluster.set_link(leader, up=True)
    wait_until(lambda: {"before-the-cut", "during-the-cut"} <= topics(cluster, leader), timeout=40,
               message="the old leader catching up once its link is back")
    assert cluster.status() == (new_leader, new_epoch), "the returning node does not take leadership back"


def test_a_follower_cut_off_does_not_stop_the_quorum(netns_cluster):
    cluster, leader, epoch = started(netns_cluster, 3, timeout=30)
    follower = next(n for n in (1, 2, 3) if n != leader)
    cluster.set_link(follower, up=False)
    create(cluster, leader, "without-one-follower")
    assert cluster.status(*[n for n in (1, 2, 3) if n != follower]) == (leader, epoch)
    cluster.set_link(follower, up=True)
    wait_until(lambda: "without-one-follower" in topics(cluster, follower), timeout=40,
               message="the follower catching up")
    assert cluster.status() == (leader, epoch), "pre-vote: the returning follower did not disturb the leader"


def test_five_nodes_ride_out_a_killed_leader_and_a_stopped_node_and_wait_for_a_majority(netns_cluster):
    cluster, leader, epoch = started(netns_cluster, 5, timeout=40)
    nodes = (1, 2, 3, 4, 5)
    create(cluster, leader, "five-before")

    # kill -9 of the leader and SIGSTOP of a follower: three of five still elect and commit.
    cluster.processes[leader].kill()
    cluster.processes[leader].wait()
    stopped = next(n for n in nodes if n != leader)
    os.kill(cluster.processes[stopped].pid, signal.SIGSTOP)
    live = [n for n in nodes if n not in (leader, stopped)]
    new_leader, new_epoch = cluster.wait_for_leader(*live, newer_than=epoch)
    assert new_leader in live
    create(cluster, new_leader, "three-of-five")

    # Two more cut off: no majority can talk, and a change is refused.
    cut = [n for n in live if n != new_leader][:2]
    for node in cut:
        cluster.set_link(node, up=False)
    refused = cluster.brook("topics", "create", "--bootstrap-server", cluster.bootstrap(new_leader), "--topic", "minority",
                            "--partitions", "1", "--timeout-ms", "3000")
    assert refused.returncode != 0, refused.stdout

    # Everything back: every node with every committed topic, and all agree on one leader.
    for node in cut:
        cluster.set_link(node, up=True)
    os.kill(cluster.processes[stopped].pid, signal.SIGCONT)
    cluster.start(leader)
    cluster.wait_for_leader(newer_than=epoch)
    for node in nodes:
        wait_until(lambda: {"five-before", "three-of-five"} <= topics(cluster, node), timeout=60,
                   message=f"node {node} caught up")

    # The leader's replication view: all five voters caught up with it.
    def caught_up():
        result = cluster.brook("metadata-quorum", "describe", "--bootstrap-server", cluster.bootstrap(), "--replication",
                               "--timeout-ms", "3000")
        rows = [line.split() for line in result.stdout.splitlines()[1:] if line.strip()] if result.returncode == 0 else []
        return len(rows) == 5 and all(row[2] == "0" for row in rows) and rows
    rows = wait_until(caught_up, timeout=40, interval=0.5, message="five voters caught up")
    assert sorted(row[5] for row in rows) == ["Follower"] * 4 + ["Leader"]
    assert cluster.status()[1] >= new_epoch
