"""Brook nodes each in a network namespace of its own, joined by veth pairs to a bridge that
lives in one more namespace (the switch), so that no address or link is added to the host's
own namespace. Tests run as root; everything made here is removed when the test ends, even
when it fails, and leftovers of an earlier run (same prefix) are removed first.

    switch namespace:  bridge br0 ── s1 ── s2 ── s3 ── sc      (one port per node, one for clients)
    node namespace N:  eth0 = 10.77.0.N/24                       (peer of sN)
    client namespace:  eth0 = 10.77.0.100/24                     (peer of sc)

Cutting a node off is `ip link set sN down` in the switch; healing sets it up again. Cutting
the link between two nodes alone (`block`, `split` for a network partition) gives each of them a
permanent neighbour entry for the other that names a MAC address no port holds: their frames
to each other are flooded by the bridge and taken by nobody, so packets vanish silently both
ways (no refusal, established connections stall), while both still reach every other node and
the client. `heal` removes those entries and ARP finds the real addresses again.
"""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import brook_binary, wait_until
from quorum_support import format_storage, random_cluster_id

PREFIX = "brookit"
SUBNET = "10.77.0"
LISTENING = re.compile(r"listening on PLAINTEXT://")
# Locally administered and held by no port of the bridge: frames sent to it go nowhere.
NOWHERE_MAC = "02:00:00:00:00:00"
LEADER = re.compile(r"^LeaderId:\s+(-?\d+)$", re.M)
EPOCH = re.compile(r"^LeaderEpoch:\s+(\d+)$", re.M)


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=60)


def namespaces() -> list[str]:
    listed = run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in listed.splitlines() if line.startswith(PREFIX)]


def remove_everything() -> None:
    for namespace in namespaces():
        for pid in run("ip", "netns", "pids", namespace, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        run("ip", "netns", "del", namespace, check=False)


class NetnsCluster:
    """Nodes 1..count as voters of one quorum, each in its own namespace."""

    def __init__(self, count: int, port: int = 9092):
        self.count = count
        self.port = port
        self.switch = f"{PREFIX}-sw"
        self.client = f"{PREFIX}-cl"
        self.directories = {n: tempfile.TemporaryDirectory(prefix="brook-netns-") for n in range(1, count + 1)}
        self.processes: dict[int, subprocess.Popen] = {}
        self.outputs: dict[int, list[str]] = {}
        self.voters = ",".join(f"{n}@{self.address(n)}:{port}" for n in range(1, count + 1))
        self.cluster_id = random_cluster_id()
        self.blocked: set[frozenset[int]] = set()

    def address(self, node: int) -> str:
        return f"{SUBNET}.{node}"

    def node_namespace(self, node: int) -> str:
        return f"{PREFIX}-n{node}"

    def build(self) -> "NetnsCluster":
        remove_everything()
        run("ip", "netns", "add", self.switch)
        run("ip", "netns", "exec", self.switch, "ip", "link", "add", "br0", "type", "bridge")
        run("ip", "netns", "exec", self.switch, "ip", "link", "set", "br0", "up")
        for node, namespace, address in [(n, self.node_namespace(n), self.address(n)) for n in range(1, self.count + 1)] + [
            ("c", self.client, f"{SUBNET}.100")
        ]:
            run("ip", "netns", "add", namespace)
            port = f"s{node}"
            # Both ends are made in the switch; one moves into the node's namespace as eth0.
            run("ip", "netns", "exec", self.switch, "ip", "link", "add", port, "type", "veth", "peer", "name", "eth0",
                "netns", namespace)
            run("ip", "netns", "exec", self.switch, "ip", "link", "set", port, "master", "br0", "up")
            run("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
            run("ip", "netns", "exec", namespace, "ip", "link", "set", "eth0", "up")
            run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        return self

    def start(self, node: int, *overrides: str) -> None:
        if not (Path(self.directories[node].name) / "meta.properties").exists():
            format_storage(self.directories[node].name, node, self.cluster_id)
        args = ["ip", "netns", "exec", self.node_namespace(node), str(brook_binary()), "server",
                "--override", f"node.id={node}",
                "--override", f"listeners=PLAINTEXT://{self.address(node)}:{self.port}",
                "--override", f"log.dirs={self.directories[node].name}",
                "--override", f"controller.quorum.voters={self.voters}",
                "--override", "broker.heartbeat.interval.ms=200"]
        for override in overrides:
            args += ["--override", override]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output: list[str] = []
        self.processes[node], self.outputs[node] = process, output
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"node {node} exited: {''.join(output)}")
            output.append(line)
            if LISTENING.search(line):
                threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
                return
        raise RuntimeError(f"node {node} did not start: {''.join(output)}")

    def set_link(self, node: int, up: bool) -> None:
        run("ip", "netns", "exec", self.switch, "ip", "link", "set", f"s{node}", "up" if up else "down")

    def block(self, a: int, b: int) -> None:
        """Silently drops every packet between nodes `a` and `b`, both ways; their other links stay up."""
        for here, there in ((a, b), (b, a)):
            run("ip", "netns", "exec", self.node_namespace(here), "ip", "neigh", "replace", self.address(there),
                "lladdr", NOWHERE_MAC, "nud", "permanent", "dev", "eth0")
        self.blocked.add(frozenset((a, b)))

    def unblock(self, a: int, b: int) -> None:
        for here, there in ((a, b), (b, a)):
            run("ip", "netns", "exec", self.node_namespace(here), "ip", "neigh", "del", self.address(there), "dev", "eth0",
                check=False)
        self.blocked.discard(frozenset((a, b)))

    def split(self, *sides: set[int]) -> None:
        """A network partition: no node of one side reaches a node of another side. Nodes on no
        side keep every link (a bridge between the sides, when there is one)."""
        for index, side in enumerate(sides):
            for other in sides[index + 1:]:
                for a in side:
                    for b in other:
                        self.block(a, b)

    def heal(self) -> None:
        """Every blocked pair connected again."""
        for a, b in [tuple(pair) for pair in self.blocked]:
            self.unblock(a, b)

    def brook(self, *args: str) -> subprocess.CompletedProcess:
        """`brook ARGS` run from the client namespace."""
        return subprocess.run(["ip", "netns", "exec", self.client, str(brook_binary()), *args],
                              capture_output=True, text=True, timeout=60)

    def bootstrap(self, *nodes: int) -> str:
        return ",".join(f"{self.address(n)}:{self.port}" for n in nodes or range(1, self.count + 1))

    def describe(self, topic: str, *flags: str, nodes: tuple[int, ...] = ()) -> list[dict[str, str]]:
        """The partition lines of `brook topics describe` (asking `nodes`, or every node), as
        field dicts (Partition, Leader, Replicas, Isr...); empty when it cannot say."""
        result = self.brook("topics", "describe", "--bootstrap-server", self.bootstrap(*nodes), "--topic", topic,
                            "--timeout-ms", "5000", *flags)
        if result.returncode != 0:
            return []
        return [dict(field.split(": ", 1) for field in line.strip().split("\t"))
                for line in result.stdout.splitlines() if line.startswith("\t")]

    def status(self, *nodes: int) -> tuple[int, int] | None:
        result = self.brook("metadata-quorum", "describe", "--bootstrap-server", self.bootstrap(*nodes), "--status",
                            "--timeout-ms", "3000")
        leader, epoch = LEADER.search(result.stdout), EPOCH.search(result.stdout)
        return (int(leader.group(1)), int(epoch.group(1))) if result.returncode == 0 and leader and epoch else None

    def wait_for_leader(self, *nodes: int, newer_than: int = 0, timeout: float = 40) -> tuple[int, int]:
        return wait_until(lambda: (s := self.status(*nodes)) and s[1] > newer_than and s,
                          timeout=timeout, interval=0.2, message="a quorum leader")

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        remove_everything()
        for directory in self.directories.values():
            directory.cleanup()


@pytest.fixture
def netns_cluster():
    if os.geteuid() != 0:
        pytest.fail("network-namespace tests run as root (they make namespaces, veths and a bridge)")
    clusters: list[NetnsCluster] = []

    def make(count: int) -> NetnsCluster:
        cluster = NetnsCluster(count)
        clusters.append(cluster)
        return cluster.build()

    try:
        yield make
    finally:
        for cluster in clusters:
            cluster.close()
        remove_everything()
        assert namespaces() == [], "a namespace outlived its test"
