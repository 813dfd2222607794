"""Groups shared by Brook's Swift consumer (`brook consume --group`) and confluent-kafka
(librdkafka) consumers: the classic protocol with range and cooperative-sticky, whichever client
leads the group (the first member to join leads it, and the leader runs the assignor for
everybody), and KIP-848's consumer protocol. Every record is consumed exactly once, also after a
Brook member leaves."""
import signal
import subprocess
import threading

import pytest
from confluent_kafka import ConsumerGroupState

from conftest import brook_binary, wait_until
from groups_support import FAST_GROUPS, Tracked, group_consumer, poll_until
from records_support import TIMEOUT, admin_client, create_topic, produce_all, producer

PARTITIONS = 6


class BrookMember:
    """A `brook consume --group` process; its stdout lines are collected as they come."""

    def __init__(self, broker, topic: str, group: str, name: str, *properties: str):
        args = [str(brook_binary()), "consume", "--bootstrap-server", broker.bootstrap, "--topic", topic,
                "--group", group, "--from-beginning", "--consumer-property", f"client.id={name}",
                "--consumer-property", "auto.commit.interval.ms=200"]
        for prop in properties:
            args += ["--consumer-property", prop]
        self.name = name
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip(b"\n"))

    def stop(self) -> str:
        """SIGTERM: the member commits, leaves the group and exits; returns its stderr."""
        self.process.send_signal(signal.SIGTERM)
        try:
            _, stderr = self.process.communicate(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(timeout=10)
        assert self.process.returncode == 0, stderr
        return stderr.decode()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def members():
    started: list[BrookMember] = []
    yield started
    for member in started:
        member.kill()


def describe(admin, group: str):
    return admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT)


def settled(admin, group: str, member_count: int) -> bool:
    """The group is Stable with `member_count` members that share every partition, each holding some."""
    described = describe(admin, group)
    assigned = [tp.partition for m in described.members for tp in m.assignment.topic_partitions]
    return described.state == ConsumerGroupState.STABLE and len(described.members) == member_count \
        and sorted(assigned) == list(range(PARTITIONS)) and all(m.assignment.topic_partitions for m in described.members)


def produce_values(broker, topic: str, values: list[bytes]) -> None:
    reports = produce_all(producer(broker), topic, [{"value": v, "partition": i % PARTITIONS} for i, v in enumerate(values)])
    assert all(r.error is None for r in reports)


def consumed(confluent: list[Tracked], brook: list[BrookMember]) -> list[bytes]:
    return sorted([v for c in confluent for _, _, v in c.records] + [line for b in brook for line in b.lines])


def share_a_group(broker, topic: str, group: str, confluent_settings: dict, brook_properties: list[str], first: str, members):
    """Two confluent and two Brook members (the `first` kind joins alone first and leads), 60
    records, then a Brook member leaves and 30 more records go to the three left."""
    create_topic(broker, topic, partitions=PARTITIONS)
    admin = admin_client(broker)
    confluent: list[Tracked] = []

    def add_confluent():
        confluent.append(Tracked(group_consumer(broker, group, **confluent_settings), [topic]))

    def add_brook():
        members.append(BrookMember(broker, topic, group, f"brook-{len(members)}", *brook_properties))

    if first == "brook":
        add_brook()
        wait_until(lambda: settled(admin, group, 1), timeout=TIMEOUT, interval=0.2, message="the Brook member to lead the group alone")
    else:
        add_confluent()
        poll_until(confluent, lambda: settled(admin, group, 1), message="the confluent member to lead the group alone")
    for add in ([add_confluent, add_confluent, add_brook] if first == "brook" else [add_brook, add_brook, add_confluent]):
        add()
    poll_until(confluent, lambda: settled(admin, group, 4), message="four members sharing the partitions")
    clients = {m.client_id for m in describe(admin, group).members}
    assert {"brook-0", "brook-1"} <= clients

    values = [f"v{i}".encode() for i in range(60)]
    produce_values(broker, topic, values)
    poll_until(confluent, lambda: len(consumed(confluent, members)) >= 60, message="60 records")
    assert consumed(confluent, members) == sorted(values), "each record exactly once"
    assert all(member.lines for member in members), "every Brook member got records"
    for tracked in confluent:
        tracked.consumer.commit(asynchronous=False)

    leaving = members[-1]
    stderr = leaving.stop()
    assert stderr.strip().splitlines()[-1] == f"Processed a total of {len(leaving.lines)} messages"
    poll_until(confluent, lambda: settled(admin, group, 3), message="the three members left to share the partitions")
    staying = members[:-1]
    for tracked in confluent:
        tracked.records.clear()
    for member in staying:
        member.lines.clear()
    more = [f"w{i}".encode() for i in range(30)]
    produce_values(broker, topic, more)
    poll_until(confluent, lambda: len(consumed(confluent, staying)) >= 30, message="30 more records")
    assert consumed(confluent, staying) == sorted(more), "committed offsets honoured: nothing read twice"
    for tracked in confluent:
        tracked.consumer.close()
    for member in staying:
        member.stop()


@pytest.mark.parametrize("first", ["brook", "confluent"])
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_brook_and_confluent_consumers_share_a_classic_group(broker_factory, members, strategy, first):
    broker = broker_factory(*FAST_GROUPS)
    share_a_group(
        broker, f"mixed-{strategy}-{first}", f"mixed-{strategy}-{first}",
        {"partition.assignment.strategy": strategy},
        [f"partition.assignment.strategy={strategy}", "heartbeat.interval.ms=300", "session.timeout.ms=6000"],
        first, members)


def test_brook_and_confluent_consumers_share_a_kip848_group(broker_factory, members):
    broker = broker_factory(*FAST_GROUPS, "group.consumer.heartbeat.interval.ms=300")
    share_a_group(
        broker, "mixed-848", "mixed-848",
        {"group.protocol": "consumer", "session.timeout.ms": None, "heartbeat.interval.ms": None},
        ["group.protocol=consumer"], "brook", members)
