"""`brook reassign-partitions` (kafka-reassign-partitions, its JSON files and its words) over
AlterPartitionReassignments and ListPartitionReassignments: replicas move to a broker that
joined, catch up and take over while clients keep reading everything; a move to a broker
that is down stays in progress until it is cancelled; a move to a broker that does not exist
is refused with Kafka's error and changes nothing; `--throttle` holds a move's copying back
(Kafka's replication quotas) until the rate is lifted, and `--verify` then clears it."""
import json
import time

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from cli_support import brook, failed_with, succeeded
from conftest import wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)
from test_replication import consume_all

FAST = ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=3000", "replica.lag.time.max.ms=3000",
        "replica.fetch.backoff.ms=200"]


def replicas(bootstrap: str, topic: str) -> dict[int, tuple[list[int], list[int]]]:
    found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10).topics.get(topic)
    if found is None or found.error is not None:
        return {}
    return {p.id: (list(p.replicas), sorted(p.isrs)) for p in found.partitions.values()}


def reassign(bootstrap: str, *args: str):
    return brook("reassign-partitions", "--bootstrap-server", bootstrap, *args)


def test_replicas_move_to_a_new_broker_and_clients_read_everything(quorum_factory, tmp_path):
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3, 4)}, brokers=1)
    quorum.wait_for_leader()
    quorum.wait_for_brokers(4)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("moving", 2, 2)])["moving"].result(30)
    wait_until(lambda: len(replicas(quorum.bootstrap(), "moving")) == 2, timeout=30, message="the topic")
    producer = Producer({"bootstrap.servers": quorum.bootstrap(), "acks": "all"})
    for i in range(200):
        producer.produce("moving", value=b"m%d" % i, partition=i % 2)
    assert producer.flush(30) == 0

    # --generate proposes, over brokers 3 and 4, as many replicas as each partition has.
    topics_file = tmp_path / "topics.json"
    topics_file.write_text(json.dumps({"version": 1, "topics": [{"topic": "moving"}]}))
    generated = succeeded(reassign(quorum.bootstrap(), "--generate", "--topics-to-move-json-file", str(topics_file),
                                   "--broker-list", "3,4"))
    assert generated.startswith("Current partition replica assignment\n"), generated
    proposal = json.loads(generated.split("Proposed partition reassignment configuration\n")[1])
    assert [sorted(p["replicas"]) for p in proposal["partitions"]] == [[3, 4], [3, 4]], proposal

    # Move both partitions to [4, 3] and wait for --verify to say so.
    plan = {"version": 1, "partitions": [{"topic": "moving", "partition": p, "replicas": [4, 3]} for p in (0, 1)]}
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    started = succeeded(reassign(quorum.bootstrap(), "--execute", "--reassignment-json-file", str(plan_file)))
    assert "Save this to use as the --reassignment-json-file option during rollback" in started
    assert "Successfully started partition reassignments for moving-0,moving-1" in started, started

    def verified():
        out = succeeded(reassign(quorum.bootstrap(), "--verify", "--reassignment-json-file", str(plan_file)))
        return out.count("is completed.") == 2 and out
    assert "Reassignment of partition moving-0 is completed." in wait_until(verified, timeout=60, message="both moves done")
    # Brokers other than the controller apply its last change a moment later.
    wait_until(lambda: (state := replicas(quorum.bootstrap(), "moving"))
               and all(r == [4, 3] and isr == [3, 4] for r, isr in state.values()), timeout=30, message="[4, 3] everywhere")

    # Every record is still there, read through the brokers that hold the partitions now.
    assert sorted(consume_all(quorum.bootstrap(3, 4), "moving", 2, 200)) == sorted(b"m%d" % i for i in range(200))

    # The brokers no longer holding a replica delete their logs.
    for node in (1, 2):
        folder = quorum.nodes[node].data_dir
        wait_until(lambda: not any(folder.glob("moving-[01]")), timeout=30, message=f"node {node}'s logs of moving gone")


def test_a_move_to_a_broker_that_is_down_waits_until_cancelled_and_bad_moves_are_refused(quorum_factory, tmp_path):
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3, 4)}, brokers=1)
    quorum.wait_for_leader()
    quorum.wait_for_brokers(4)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("stuck", num_partitions=1, replica_assignment=[[1, 2]])])["stuck"].result(30)
    original = wait_until(lambda: replicas(quorum.bootstrap(), "stuck").get(0), timeout=30, message="the topic")[0]
    assert original == [1, 2]

    # Broker 9 does not exist: INVALID_REPLICA_ASSIGNMENT, nothing changes.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 1, "partitions": [{"topic": "stuck", "partition": 0, "replicas": [1, 9]}]}))
    failed_with(reassign(quorum.bootstrap(), "--execute", "--reassignment-json-file", str(bad)), "stuck-0", "9")
    assert replicas(quorum.bootstrap(), "stuck")[0][0] == original

    # Broker 4 is stopped: the move cannot finish, --verify says so, --cancel rolls it back.
    quorum.nodes[4].stop()
    target = [n for n in original if n != original[0]] + [4]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"version": 1, "partitions": [{"topic": "stuck", "partition": 0, "replicas": target}]}))
    succeeded(reassign(quorum.bootstrap(1, 2, 3), "--execute", "--reassignment-json-file", str(plan)))
    status = succeeded(reassign(quorum.bootstrap(1, 2, 3), "--verify", "--reassignment-json-file", str(plan)))
    assert "Reassignment of partition stuck-0 is still in progress." in status, status
    cancelled = succeeded(reassign(quorum.bootstrap(1, 2, 3), "--cancel", "--reassignment-json-file", str(plan)))
    assert "Successfully cancelled partition reassignments for: stuck-0" in cancelled, cancelled
    # The broker asked may apply the controller's change a moment after the controller answered.
    wait_until(lambda: sorted(replicas(quorum.bootstrap(1, 2, 3), "stuck")[0][0]) == sorted(original), timeout=30,
               message="the original replicas back")
    again = succeeded(reassign(quorum.bootstrap(1, 2, 3), "--cancel", "--reassignment-json-file", str(plan)))
    assert "None of the specified partition moves are active." in again


def test_cluster_rebalance_gives_a_new_broker_its_share_in_one_command(quorum_factory):
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3, 4)}, brokers=1)
    quorum.wait_for_leader()
    quorum.wait_for_brokers(4)
    # Six partitions with two replicas each, all on brokers 1-3, as before broker 4 joined.
    layout = [[1, 2], [2, 3], [3, 1], [1, 2], [2, 3], [3, 1]]
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("spread", num_partitions=len(layout), replica_assignment=layout)])["spread"].result(30)
    wait_until(lambda: len(replicas(quorum.bootstrap(), "spread")) == 6, timeout=30, message="the topic")
    producer = Producer({"bootstrap.servers": quorum.bootstrap(), "acks": "all"})
    for i in range(600):
        producer.produce("spread", value=b"s%d" % i, partition=i % 6)
    assert producer.flush(30) == 0

    planned = succeeded(brook("cluster", "rebalance", "--bootstrap-server", quorum.bootstrap(), "--dry-run"))
    assert "Dry run: nothing moved." in planned and replicas(quorum.bootstrap(), "spread") != {}
    done = succeeded(brook("cluster", "rebalance", "--bootstrap-server", quorum.bootstrap(), "--timeout-ms", "90000",
                           timeout=120))
    assert "preferred leaders elected." in done, done

    def balanced():
        state = replicas(quorum.bootstrap(), "spread")
        per_broker = {n: sum(n in r for r, _ in state.values()) for n in (1, 2, 3, 4)}
        leaders = AdminClient({"bootstrap.servers": quorum.bootstrap()}).list_topics("spread", timeout=10).topics["spread"]
        # Three replicas each, and broker 4 leads a partition.
        return per_broker == {1: 3, 2: 3, 3: 3, 4: 3} and 4 in {p.leader for p in leaders.partitions.values()}
    wait_until(balanced, timeout=30, message="replicas and leaders even")
    assert "The cluster is balanced: nothing to move." in succeeded(
        brook("cluster", "rebalance", "--bootstrap-server", quorum.bootstrap(), "--dry-run"))

    assert sorted(consume_all(quorum.bootstrap(), "spread", 6, 600)) == sorted(b"s%d" % i for i in range(600))


def configs(bootstrap: str, resource: ConfigResource, *keys: str) -> dict[str, str | None]:
    """`keys` of a topic or broker as DescribeConfigs reports them (None: no value set)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_configs([resource])[resource].result(30)
    return {key: (described[key].value if key in described and not described[key].is_default else None) for key in keys}


def replica_bytes(quorum, node: int, topic: str) -> int:
    return sum(f.stat().st_size for f in (quorum.nodes[node].data_dir / f"{topic}-0").glob("*.log"))


def test_a_throttled_move_copies_slowly_until_the_throttle_is_lifted_and_verify_clears_it(quorum_factory, tmp_path):
    # Small batches and replica fetches, so that the throttle's granularity (one fetch) is small too.
    quorum = quorum_factory(3, extra={n: [*FAST, "replica.fetch.max.bytes=65536"] for n in (1, 2, 3)})
    quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    admin.create_topics([NewTopic("throttled", num_partitions=1, replica_assignment=[[1, 2]])])["throttled"].result(30)
    wait_until(lambda: replicas(quorum.bootstrap(), "throttled").get(0, ([], []))[1] == [1, 2], timeout=30, message="in sync")
    producer = Producer({"bootstrap.servers": quorum.bootstrap(), "acks": "all", "linger.ms": 5, "batch.size": 16384})
    for i in range(2000):
        producer.produce("throttled", value=b"%04d" % i + b"x" * 1020)
    assert producer.flush(30) == 0

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"version": 1, "partitions": [{"topic": "throttled", "partition": 0, "replicas": [1, 3]}]}))
    started = succeeded(reassign(quorum.bootstrap(), "--execute", "--reassignment-json-file", str(plan_file),
                                 "--throttle", "10000"))
    assert "The inter-broker throttle limit was set to 10000 B/s" in started, started
    assert "You must run --verify periodically" in started

    # Kafka's configs: the current replicas throttled as leaders, the new one as follower.
    topic = ConfigResource("topic", "throttled")
    assert configs(quorum.bootstrap(), topic, "leader.replication.throttled.replicas", "follower.replication.throttled.replicas") \
        == {"leader.replication.throttled.replicas": "0:1,0:2", "follower.replication.throttled.replicas": "0:3"}
    for node in (1, 2, 3):
        wait_until(lambda: configs(quorum.bootstrap(), ConfigResource("broker", str(node)), "leader.replication.throttled.rate")
                   == {"leader.replication.throttled.rate": "10000"}, timeout=30, message=f"broker {node}'s throttle")

    # About 2 MB to copy at 10 kB/s: broker 3 starts copying, but stays far from done.
    wait_until(lambda: replica_bytes(quorum, 3, "throttled") > 0, timeout=30, message="broker 3 copying")
    start = time.monotonic()
    wait_until(lambda: replica_bytes(quorum, 3, "throttled") > 500_000 or time.monotonic() - start > 4, timeout=30,
               message="four seconds of copying")
    assert replica_bytes(quorum, 3, "throttled") < 500_000, "the throttle held the copy back"
    in_progress = succeeded(reassign(quorum.bootstrap(), "--verify", "--reassignment-json-file", str(plan_file)))
    assert "Reassignment of partition throttled-0 is still in progress." in in_progress, in_progress
    assert "Clearing" not in in_progress, "the throttle stays while the move is under way"

    # Lifting the rate lets the move finish; --verify then clears every throttle config.
    for node in (1, 2, 3):
        admin.incremental_alter_configs([ConfigResource("broker", str(node), incremental_configs=[
            ConfigEntry("leader.replication.throttled.rate", "1000000000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("follower.replication.throttled.rate", "1000000000", incremental_operation=AlterConfigOpType.SET),
        ])])[ConfigResource("broker", str(node))].result(30)

    def verified():
        out = succeeded(reassign(quorum.bootstrap(), "--verify", "--reassignment-json-file", str(plan_file)))
        return "is completed." in out and out
    done = wait_until(verified, timeout=90, message="the move done")
    assert "Clearing broker-level throttles on brokers 1,2,3" in done, done
    assert "Clearing topic-level throttles on topic throttled" in done
    assert configs(quorum.bootstrap(), topic, "leader.replication.throttled.replicas", "follower.replication.throttled.replicas") \
        == {"leader.replication.throttled.replicas": None, "follower.replication.throttled.replicas": None}
    for node in (1, 2, 3):
        wait_until(lambda: configs(quorum.bootstrap(), ConfigResource("broker", str(node)), "follower.replication.throttled.rate")
                   == {"follower.replication.throttled.rate": None}, timeout=30, message=f"broker {node}'s throttle gone")
    values = consume_all(quorum.bootstrap(1, 3), "throttled", 1, 2000)
    assert sorted(v[:4] for v in values) == [b"%04d" % i for i in range(2000)]


def test_a_throttle_needs_execute_and_a_bad_throttled_replica_list_is_refused(quorum_factory, tmp_path):
    quorum = quorum_factory(1)
    quorum.wait_for_leader()
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"version": 1, "partitions": []}))
    failed_with(reassign(quorum.bootstrap(), "--verify", "--reassignment-json-file", str(plan_file), "--throttle", "5"),
                "--throttle is only for --execute", status=64)
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap()})
    new = NewTopic("listed", 1, 1, config={"leader.replication.throttled.replicas": "0-1"})
    try:
        admin.create_topics([new])["listed"].result(30)
        raise AssertionError("a malformed throttled replica list was accepted")
    except KafkaException as error:
        assert error.args[0].code() == KafkaError.INVALID_CONFIG, error
