"""KIP-848 consumer groups (`group.protocol=consumer`) with confluent-kafka against the real
`brook` binary: the broker computes assignments, members reconcile through
ConsumerGroupHeartbeat, and the AdminClient describes the group with ConsumerGroupDescribe."""
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, ConsumerGroupState, ConsumerGroupType, KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic

from conftest import wait_until
from groups_support import Tracked, group_consumer, poll_until, split_evenly
from records_support import TIMEOUT, admin_client, create_topic, produce_all, producer

FAST_HEARTBEATS = ("group.consumer.heartbeat.interval.ms=300",)


@pytest.fixture
def kip848_broker(broker_factory):
    return broker_factory(*FAST_HEARTBEATS)


def kip848_consumer(broker, group: str, **extra):
    settings = {
        "bootstrap.servers": broker.bootstrap, "group.id": group, "group.protocol": "consumer",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    }
    settings.update(extra)
    return Consumer(settings)


def sole_owner(broker, admin, group: str, topic: str) -> tuple:
    """A member of `group` subscribed to `topic` alone, once it owns the topic's one partition
    and is the group's only member; returns it (tracked) and its member id."""
    first = Tracked(kip848_consumer(broker, group), [topic])
    poll_until([first], lambda: first.topic_partitions() == [(topic, 0)], message=f"the first member to own {topic}")
    first_id = first.consumer.memberid()
    wait_until(lambda: assignments(admin, group) == {first_id: [(topic, 0)]}, timeout=TIMEOUT,
               message="the first member to be alone with its partition")
    return first, first_id


def values(consumers: list[Tracked]) -> list[bytes]:
    return sorted(v for c in consumers for _, _, v in c.records)


@pytest.mark.parametrize("assignor", ["uniform", "range"])
def test_three_kip848_consumers_split_partitions_and_take_over(kip848_broker, assignor):
    topic = f"kip848-{assignor}"
    create_topic(kip848_broker, topic, partitions=6)
    members = [Tracked(kip848_consumer(kip848_broker, f"g848-{assignor}", **{"group.remote.assignor": assignor}), [topic])
               for _ in range(3)]
    poll_until(members, lambda: split_evenly(members, 6), message="a three-way split")
    assert sorted(len(m.partitions()) for m in members) == [2, 2, 2]
    produce_all(producer(kip848_broker), topic, [{"value": f"v{i}".encode(), "partition": i % 6} for i in range(60)])
    poll_until(members, lambda: len(values(members)) >= 60, message="60 records")
    assert values(members) == sorted(f"v{i}".encode() for i in range(60))
    for member in members:
        member.consumer.commit(asynchronous=False)

    admin = admin_client(kip848_broker)

    def describe():
        return admin.describe_consumer_groups([f"g848-{assignor}"])[f"g848-{assignor}"].result(timeout=TIMEOUT)

    # A member that gave up partitions confirms it in its next heartbeat; until then the group is
    # Reconciling (which confluent-kafka reports as UNKNOWN).
    poll_until(members, lambda: describe().state == ConsumerGroupState.STABLE, message="the group to be Stable")
    described = describe()
    assert described.type == ConsumerGroupType.CONSUMER
    assert described.partition_assignor == assignor
    assert sorted(tp.partition for m in described.members for tp in m.assignment.topic_partitions) == list(range(6))

    leaving = members.pop()
    leaving.consumer.close()
    poll_until(members, lambda: split_evenly(members, 6), message="the others to take over")
    for member in members:
        member.records.clear()
    produce_all(producer(kip848_broker), topic, [{"value": f"w{i}".encode(), "partition": i % 6} for i in range(30)])
    poll_until(members, lambda: len(values(members)) >= 30, message="30 more records")
    assert values(members) == sorted(f"w{i}".encode() for i in range(30))
    for member in members:
        member.consumer.close()


@pytest.mark.parametrize("stop", ["restart", "kill -9"])
def test_kip848_groups_and_commits_survive_the_broker_stopping(kip848_broker, stop):
    topic = "kip848-durable"
    create_topic(kip848_broker, topic, partitions=2)
    produce_all(producer(kip848_broker), topic, [{"value": f"v{i}".encode(), "partition": i % 2} for i in range(10)])
    member = Tracked(kip848_consumer(kip848_broker, "g848-durable"), [topic])
    poll_until([member], lambda: len(member.records) >= 10, message="10 records")
    member.consumer.commit(asynchronous=False)
    admin = admin_client(kip848_broker)
    before = admin.describe_consumer_groups(["g848-durable"])["g848-durable"].result(timeout=TIMEOUT)
    if stop == "restart":
        kip848_broker.restart()
    else:
        kip848_broker.kill()
        kip848_broker.start()
    # The group, its member (same id) and its assignment are rebuilt from __consumer_offsets.
    admin = admin_client(kip848_broker)
    after = admin.describe_consumer_groups(["g848-durable"])["g848-durable"].result(timeout=TIMEOUT)
    assert [m.member_id for m in after.members] == [m.member_id for m in before.members]
    assert sorted(tp.partition for tp in after.members[0].assignment.topic_partitions) == [0, 1]
    produce_all(producer(kip848_broker), topic, [{"value": b"after", "partition": 1}])
    seen = len(member.records)
    poll_until([member], lambda: len(member.records) > seen, message="the record produced after the restart")
    assert [v for _, _, v in member.records[seen:]] == [b"after"]
    committed = member.consumer.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=TIMEOUT)
    assert [tp.offset for tp in committed] == [5, 5]
    assert member.consumer.memberid() == before.members[0].member_id
    member.consumer.close()


def test_kip848_regex_subscription_picks_up_new_topics(kip848_broker):
    create_topic(kip848_broker, "rx-one", partitions=1)
    member = Tracked(kip848_consumer(kip848_broker, "g848-regex"), ["^rx-.*"])
    poll_until([member], lambda: member.consumer.assignment() != [], message="the regex to match rx-one")
    create_topic(kip848_broker, "rx-two", partitions=2)
    create_topic(kip848_broker, "other", partitions=1)
    poll_until([member], lambda: sorted((tp.topic, tp.partition) for tp in member.consumer.assignment())
               == [("rx-one", 0), ("rx-two", 0), ("rx-two", 1)], message="rx-two to be assigned")
    member.consumer.close()


def test_a_group_is_either_classic_or_consumer(kip848_broker):
    topic = "kip848-mixed"
    create_topic(kip848_broker, topic, partitions=2)
    modern = Tracked(kip848_consumer(kip848_broker, "g848-mixed"), [topic])
    poll_until([modern], lambda: len(modern.partitions()) == 2, message="the consumer-protocol member to own both partitions")
    classic = group_consumer(kip848_broker, "g848-mixed")
    classic.subscribe([topic])
    error = None
    for _ in range(100):
        message = classic.poll(0.1)
        if message is not None and message.error():
            error = message.error()
            break
    assert error is not None and error.code() == KafkaError.INCONSISTENT_GROUP_PROTOCOL
    classic.close()
    modern.consumer.close()


def test_kip848_regex_that_re2_refuses_is_a_fatal_invalid_regular_expression(kip848_broker):
    """librdkafka accepts `^bad**` locally; the broker compiles it with RE2's rules (as Kafka's RE2J
    does), refuses it with INVALID_REGULAR_EXPRESSION, and librdkafka raises it as fatal instead of
    the member silently subscribing to nothing."""
    consumer = kip848_consumer(kip848_broker, "g848-bad-regex")
    try:
        consumer.subscribe(["^bad**"])
        error = None
        for _ in range(40):
            message = consumer.poll(0.5)
            if message is not None and message.error() is not None:
                error = message.error()
                break
        assert error is not None, "no error for an invalid regex"
        assert error.code() == KafkaError._FATAL and "regular expression is not valid" in error.str(), error
    finally:
        consumer.close()


# Heartbeats every 3 s: long enough that a test decides what reaches the coordinator between two
# of a member's regular heartbeats (joins, acknowledgements and new subscriptions are sent at once).
SLOW_HEARTBEAT_S = 3.0
SLOW_HEARTBEATS = (f"group.consumer.heartbeat.interval.ms={int(SLOW_HEARTBEAT_S * 1000)}",
                   "group.consumer.session.timeout.ms=6000")
SESSION_S = 6.0


def assignments(admin, group: str) -> dict[str, list[tuple[str, int]]]:
    """Each member's assignment as the coordinator has it (ConsumerGroupDescribe)."""
    described = admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT)
    return {m.member_id: sorted((tp.topic, tp.partition) for tp in m.assignment.topic_partitions) for m in described.members}


def test_a_second_static_member_with_a_live_members_instance_id_is_refused(kip848_broker):
    """KIP-848 refuses the joining member with UNRELEASED_INSTANCE_ID (fatal for it) and the member
    in place keeps its partitions; once that one closes (leaving for now, epoch -2), a restart
    with the same instance id takes its partitions over."""
    topic = "kip848-static"
    create_topic(kip848_broker, topic, partitions=2)
    admin = admin_client(kip848_broker)
    first = Tracked(kip848_consumer(kip848_broker, "g848-static", **{"group.instance.id": "worker-1"}), [topic])
    poll_until([first], lambda: first.partitions() == [0, 1], message="the first static member to own both partitions")
    first_id = first.consumer.memberid()

    second = kip848_consumer(kip848_broker, "g848-static", **{"group.instance.id": "worker-1"})
    second.subscribe([topic])
    error = None
    deadline = time.monotonic() + TIMEOUT
    while error is None and time.monotonic() < deadline:
        message = second.poll(0.05)
        if message is not None and message.error():
            error = message.error()
        first.poll()
    assert error is not None, "the second member with instance id worker-1 got no error"
    assert error.code() == KafkaError._FATAL and "instance ID is still used" in error.str(), error
    assert second.assignment() == []
    second.close()

    # The first member was never disturbed: same member id, both partitions, nothing revoked.
    poll_until([first], lambda: assignments(admin, "g848-static") == {first_id: [(topic, 0), (topic, 1)]},
               message="the coordinator to keep the first member with both partitions")
    assert first.partitions() == [0, 1] and first.revoked == [] and first.consumer.memberid() == first_id
    first.consumer.close()

    restarted = Tracked(kip848_consumer(kip848_broker, "g848-static", **{"group.instance.id": "worker-1"}), [topic])
    poll_until([restarted], lambda: restarted.partitions() == [0, 1], message="the restarted static member to take both partitions over")
    assert list(assignments(admin, "g848-static")) == [restarted.consumer.memberid()]
    restarted.consumer.close()


class MemberProcess:
    """A member in a process of its own (kip848_member.py) that a test can kill -9: it joins when
    told to, and its assignments as it prints them are collected."""

    def __init__(self, broker, group: str, topic: str):
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "kip848_member.py"), broker.bootstrap, group, topic],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        wait_until(lambda: "ready" in self.lines, timeout=TIMEOUT, message="the member process to start")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def subscribe(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("subscribe\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def grant_then_take_back(broker, admin, group: str, mine: str, shared: str, next_member):
    """Brings `stays` (subscribed to `mine` and `shared`) to where a coordinator that revokes
    without looking at the owned partitions a heartbeat reports gets stuck: `stays` is granted
    `shared` when its first owner leaves, in a regular heartbeat answered while `stays` has not
    yet applied `mine`; another member joins for `shared` before `stays` acknowledges `mine`, so
    `shared` is taken back in the heartbeat that acknowledges, and `stays` never took it.
    `next_member()` starts that other member and returns its member id, or None if unknown."""
    first, first_id = sole_owner(broker, admin, group, shared)

    stays = Tracked(kip848_consumer(broker, group), [mine, shared])
    # Not polled: the client cannot apply `mine` yet, and keeps any further assignment for later.
    wait_until(lambda: assignments(admin, group).get(stays.consumer.memberid()) == [(mine, 0)], timeout=TIMEOUT,
               message=f"the coordinator to give {mine} to the second member")
    first.consumer.close()
    wait_until(lambda: assignments(admin, group).get(stays.consumer.memberid()) == [(mine, 0), (shared, 0)],
               timeout=TIMEOUT, message=f"the coordinator to grant {shared} to the member that stays")
    other_id = next_member()
    wait_until(lambda: len(assignments(admin, group)) == 2, timeout=TIMEOUT, message="the other member to join")
    poll_until([stays], lambda: stays.topic_partitions() == [(mine, 0)], message=f"the member that stays to apply {mine}")
    return stays, other_id


@pytest.mark.parametrize("departure", ["leave heartbeat", "kill -9", "leave while revoking"])
def test_the_partitions_of_a_member_that_goes_move_to_the_member_that_stays(broker_factory, departure):
    """Whether the other member leaves (epoch -1), is killed (its session expires) or leaves while a
    revocation is in flight, its partition moves to the member that stays within a heartbeat
    interval or two (plus the session timeout when nothing tells the coordinator)."""
    broker = broker_factory(*SLOW_HEARTBEATS)
    group, mine, shared, elsewhere = "g848-departure", "kip848-mine", "kip848-shared", "kip848-elsewhere"
    for topic in (mine, shared, elsewhere):
        create_topic(broker, topic, partitions=1)
    admin = admin_client(broker)
    process = MemberProcess(broker, group, shared) if departure == "kill -9" else None
    other: list[Tracked] = []

    def join_other():
        if process is not None:
            process.subscribe()
            return None
        other.append(Tracked(kip848_consumer(broker, group), [shared]))
        return other[0].consumer.memberid()

    try:
        stays, other_id = grant_then_take_back(broker, admin, group, mine, shared, join_other)
        stays_id = stays.consumer.memberid()
        assert stays.topic_partitions() == [(mine, 0)]

        if departure == "leave heartbeat":
            other[0].consumer.close()
            deadline = 3 * SLOW_HEARTBEAT_S
        elif departure == "kill -9":
            process.kill()
            deadline = SESSION_S + 3 * SLOW_HEARTBEAT_S
        else:
            # The other member takes the partition the one that stays never took, then moves to
            # another topic: it is asked to give the partition up, and closes before it has (its
            # callbacks run only when it polls).
            poll_until(other + [stays], lambda: other[0].topic_partitions() == [(shared, 0)], timeout=4 * SLOW_HEARTBEAT_S,
                       message=f"the other member to get {shared}")
            other[0].subscribe([elsewhere])
            wait_until(lambda: assignments(admin, group).get(other_id) == [], timeout=4 * SLOW_HEARTBEAT_S,
                       message="the coordinator to ask the other member to revoke its partition")
            assert other[0].topic_partitions() == [(shared, 0)]
            other[0].consumer.close()
            deadline = 3 * SLOW_HEARTBEAT_S
        left = time.monotonic()
        poll_until([stays], lambda: stays.topic_partitions() == [(mine, 0), (shared, 0)], timeout=deadline,
                   message=f"the member that stays to get {shared} ({departure})")
        took = time.monotonic() - left
        assert list(assignments(admin, group)) == [stays_id]
        print(f"{departure}: the partition moved after {took:.1f} s")
        stays.consumer.close()
    finally:
        if process is not None:
            process.kill()


def test_a_topic_that_leaves_and_reenters_the_subscription_is_assigned_again(broker_factory):
    """A consumer drops a topic from its subscription in the heartbeat that acknowledges an
    earlier assignment, while a grant of that topic's partition waits unapplied in the client,
    then subscribes to it again: it gets the partition back within a few heartbeats."""
    broker = broker_factory(*SLOW_HEARTBEATS)
    group, mine, shared = "g848-resubscribe", "kip848-resub-mine", "kip848-resub-shared"
    for topic in (mine, shared):
        create_topic(broker, topic, partitions=1)
    admin = admin_client(broker)
    first, first_id = sole_owner(broker, admin, group, shared)

    member = Tracked(kip848_consumer(broker, group), [mine, shared])
    member_id = member.consumer.memberid()
    wait_until(lambda: assignments(admin, group).get(member_id) == [(mine, 0)], timeout=TIMEOUT,
               message=f"the coordinator to give {mine} to the member")
    first.consumer.close()
    wait_until(lambda: assignments(admin, group).get(member_id) == [(mine, 0), (shared, 0)], timeout=TIMEOUT,
               message=f"the coordinator to grant {shared} while the member has not applied {mine}")
    # The new subscription goes out with the acknowledgement of `mine`.
    member.subscribe([mine])
    poll_until([member], lambda: member.topic_partitions() == [(mine, 0)], message=f"the member to apply {mine}")
    wait_until(lambda: assignments(admin, group) == {member_id: [(mine, 0)]}, timeout=TIMEOUT,
               message=f"the coordinator to take {shared} back")
    member.subscribe([mine, shared])
    poll_until([member], lambda: member.topic_partitions() == [(mine, 0), (shared, 0)], timeout=4 * SLOW_HEARTBEAT_S,
               message=f"the member to get {shared} again")
    poll_until([member], lambda: admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT).state
               == ConsumerGroupState.STABLE, timeout=4 * SLOW_HEARTBEAT_S, message="the group to be Stable")
    member.consumer.close()


def test_rapid_subscription_changes_converge(kip848_broker):
    """Two members of a group slide overlapping windows of 5 over 100 topics, re-subscribing every
    few hundred milliseconds and now and then unsubscribing, each polled in turn for a random
    while (partitions keep moving between them). After the last change every partition of their
    subscriptions is owned by exactly one of them, each within its own subscription, within a
    few heartbeats. The changes come from a seed, printed and named in the failure;
    BROOK_INTEROP_SEED=<seed> replays the same changes.

    librdkafka 2.16 has a bug this test meets about once in ten runs on a loaded machine: a member
    that unsubscribes while its revocation is still to be handed to the application leaves the
    group, and when it subscribes again it joins (epoch 0) without the rebalance timeout a join
    must carry. Kafka refuses that heartbeat with INVALID_REQUEST, as Brook does, and the client
    fails fatally. Such a member is replaced by a new consumer, as an application must; only
    that refusal is forgiven, and only when the broker's log shows the member sent exactly that."""
    seed = int(os.environ.get("BROOK_INTEROP_SEED") or random.randrange(1 << 32))
    print(f"seed {seed}")
    random_ = random.Random(seed)
    topics = [f"kip848-slide-{i:03d}" for i in range(100)]
    create_topics(kip848_broker, topics)
    base = random_.randrange(90)

    def window() -> list[str]:
        start = base + random_.randint(0, 3)
        return topics[start:start + 5]

    windows: list[list[str] | None] = [window(), window()]
    members = [Tracked(kip848_consumer(kip848_broker, "g848-slide"), topics_) for topics_ in windows]
    replaced = 0

    def poll(index: int) -> None:
        nonlocal replaced
        try:
            members[index].poll()
        except AssertionError as error:
            if not joined_without_rebalance_timeout(kip848_broker, members[index].consumer, error):
                raise
            replaced += 1
            members[index].consumer.close()
            windows[index] = windows[index] or window()
            members[index] = Tracked(kip848_consumer(kip848_broker, "g848-slide"), windows[index])

    for _ in range(30):
        base = (base + random_.randint(0, 2)) % 90
        for index, member in enumerate(members):
            if windows[index] is not None and random_.random() < 0.1:
                member.consumer.unsubscribe()
                windows[index] = None
            else:
                windows[index] = window()
                member.subscribe(windows[index])
        for index in random_.sample(range(len(members)), len(members)):
            until = time.monotonic() + random_.uniform(0.05, 0.4)
            while time.monotonic() < until:
                poll(index)
    for index, member in enumerate(members):
        if windows[index] is None:
            windows[index] = window()
            member.subscribe(windows[index])
    expected = sorted({(topic, 0) for window in windows for topic in window})

    admin = admin_client(kip848_broker)

    def converged() -> bool:
        owned = [member.topic_partitions() for member in members]
        if sorted(p for partitions in owned for p in partitions) != expected \
                or not all({topic for topic, _ in partitions} <= set(window) for partitions, window in zip(owned, windows)):
            return False
        # The coordinator agrees, and has nothing left to reconcile.
        described = admin.describe_consumer_groups(["g848-slide"])["g848-slide"].result(timeout=TIMEOUT)
        return described.state == ConsumerGroupState.STABLE and assignments(admin, "g848-slide") == {
            member.consumer.memberid(): partitions for member, partitions in zip(members, owned)}

    changed = time.monotonic()
    deadline = changed + 15.0
    while not converged():
        assert time.monotonic() < deadline, \
            f"timed out waiting for the assignments to match the last subscriptions {windows} (seed {seed})"
        for index in range(len(members)):
            poll(index)
    print(f"converged {time.monotonic() - changed:.1f} s after the last change; {replaced} members replaced")
    for member in members:
        member.consumer.close()


def joined_without_rebalance_timeout(broker, consumer: Consumer, error: AssertionError) -> bool:
    """Whether `error` is the fatal INVALID_REQUEST the broker gave `consumer` for joining
    without a rebalance timeout (librdkafka 2.16's bug, which Kafka refuses the same way)."""
    if "ConsumerGroupHeartbeat fatal error: Broker: Invalid request" not in str(error):
        return False
    refusal = f"refused a heartbeat of member {consumer.memberid()} of group g848-slide in epoch 0 (rebalance timeout -1 ms"
    # The broker logs the refusal before it answers; its output is read on another thread.
    try:
        wait_until(lambda: any(refusal in line for line in broker.output), timeout=5, message=refusal)
    except AssertionError:
        return False
    return True


def create_topics(broker, names: list[str]) -> None:
    """Creates one-partition topics in one request and waits until metadata shows them all."""
    admin = admin_client(broker)
    for future in admin.create_topics([NewTopic(name, 1, 1) for name in names]).values():
        future.result(timeout=TIMEOUT)
    wait_until(lambda: set(names) <= set(admin.list_topics(timeout=TIMEOUT).topics), timeout=TIMEOUT,
               message=f"{len(names)} topics in metadata")
