"""Brook as a cluster of brokers (KIP-631): each node registers with the active controller and
heartbeats; partitions of a new topic spread over the brokers that are not fenced; real clients
(confluent-kafka, kafka-python, kcat) produce and consume across them; a broker that stops
heartbeating is fenced, one that shuts down is fenced at once, and a broker that joins takes
new partitions."""
import subprocess
import time

import pytest

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaPythonPartition

from cli_support import brook, succeeded
from conftest import BrokerProcess, wait_until
from quorum_support import format_storage, quorum_factory  # noqa: F401  (fixture)

FAST = ["broker.heartbeat.interval.ms=200"]


def metadata(bootstrap: str):
    return AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)


def live_brokers(bootstrap: str) -> set[int]:
    return set(metadata(bootstrap).brokers)


def leaders(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's leader; empty while the broker asked does not know the topic yet."""
    found = metadata(bootstrap).topics.get(topic)
    return {p.id: p.leader for p in found.partitions.values()} if found else {}


def states(bootstrap: str) -> dict[int, str]:
    """Each registered broker's state as `brook cluster describe` prints it."""
    rows = succeeded(brook("cluster", "describe", "--bootstrap-server", bootstrap)).splitlines()[3:]
    return {int(row.split()[0]): row.split()[-1] for row in rows if row.strip()}


def create_on_controller(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=10)[topic].result(30)


def every_node(quorum, extra=FAST):
    return {node: list(extra) for node in quorum}


def test_partitions_spread_over_three_brokers_and_real_clients_use_them_all(quorum_factory):
    quorum = quorum_factory(3, extra=every_node((1, 2, 3)))
    leader, _ = quorum.wait_for_leader()
    wait_until(lambda: live_brokers(quorum.bootstrap(1)) == {1, 2, 3}, timeout=30, message="three registered brokers")
    assert metadata(quorum.bootstrap(2)).controller_id == leader

    create_on_controller(quorum.bootstrap(), "spread", 6)
    placed = wait_until(lambda: len(l := leaders(quorum.bootstrap(3), "spread")) == 6 and l, message="six partitions")
    assert sorted(placed.values()) == [1, 1, 2, 2, 3, 3], placed

    # confluent-kafka produces through one broker and consumes through another.
    producer = Producer({"bootstrap.servers": quorum.bootstrap(2)})
    for i in range(600):
        producer.produce("spread", value=b"c%d" % i, partition=i % 6)
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": quorum.bootstrap(3), "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("spread", p, 0) for p in range(6)])
    values = set()
    deadline = time.monotonic() + 30
    while len(values) < 600 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error():
            values.add(message.value())
    consumer.close()
    assert values == {b"c%d" % i for i in range(600)}

    # kafka-python does the same through the third broker.
    kp = KafkaProducer(bootstrap_servers=quorum.bootstrap(1))
    for i in range(60):
        kp.send("spread", value=b"k%d" % i, partition=i % 6)
    kp.flush(30)
    kp.close()
    kc = KafkaConsumer(bootstrap_servers=quorum.bootstrap(1), enable_auto_commit=False, consumer_timeout_ms=10_000)
    kc.assign([KafkaPythonPartition("spread", p) for p in range(6)])
    kc.seek_to_beginning()
    seen = {record.value for record in kc if record.value.startswith(b"k")}
    kc.close()
    assert seen == {b"k%d" % i for i in range(60)}

    # A broker killed and restarted serves what it held: its logs are recovered before the
    # replayed metadata names them.
    victim = next(n for n in (1, 2, 3) if n != metadata(quorum.bootstrap(1)).controller_id)
    quorum.nodes[victim].kill()
    quorum.nodes[victim].start()
    wait_until(lambda: live_brokers(quorum.bootstrap(victim)) == {1, 2, 3}, timeout=30, message="the restarted broker back")
    own = [p for p, leader in leaders(quorum.bootstrap(victim), "spread").items() if leader == victim]
    consumer = Consumer({"bootstrap.servers": quorum.bootstrap(victim), "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("spread", p, 0) for p in own])
    again = set()
    deadline = time.monotonic() + 30
    while len(again) < 100 * len(own) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error() and message.value().startswith(b"c"):
            again.add(message.value())
    consumer.close()
    assert again == {b"c%d" % i for i in range(600) if i % 6 in own}

    # kcat lists every broker and which one leads each partition.
    listing = subprocess.run(["kcat", "-b", quorum.bootstrap(1), "-L", "-t", "spread"],
                             capture_output=True, text=True, timeout=30).stdout
    assert " 3 brokers:" in listing, listing
    for node in (1, 2, 3):
        assert f"leader {node}," in listing, listing


def test_a_silent_broker_is_fenced_and_a_stopping_one_at_once(quorum_factory):
    quorum = quorum_factory(3, extra={
        1: ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=2000"],
        2: ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=2000"],
        3: ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=2000"],
    })
    leader, _ = quorum.wait_for_leader()
    wait_until(lambda: live_brokers(quorum.bootstrap(leader)) == {1, 2, 3}, timeout=30, message="three brokers")

    others = [n for n in (1, 2, 3) if n != leader]
    quorum.nodes[others[0]].kill()
    wait_until(lambda: others[0] not in live_brokers(quorum.bootstrap(leader)), timeout=15,
               message="the killed broker fenced after its session")
    assert states(quorum.bootstrap(leader)) == {n: "fenced" if n == others[0] else "registered" for n in (1, 2, 3)}

    quorum.nodes[others[0]].start()
    wait_until(lambda: live_brokers(quorum.bootstrap(leader)) == {1, 2, 3}, timeout=30,
               message="the restarted broker unfenced")


def test_controlled_shutdown_fences_before_the_session_would_expire(quorum_factory):
    slow_expiry = ["broker.heartbeat.interval.ms=200", "broker.session.timeout.ms=60000"]
    quorum = quorum_factory(3, extra={1: slow_expiry, 2: slow_expiry, 3: slow_expiry})
    leader, _ = quorum.wait_for_leader()
    wait_until(lambda: live_brokers(quorum.bootstrap(leader)) == {1, 2, 3}, timeout=30, message="three brokers")
    stopping = next(n for n in (1, 2, 3) if n != leader)
    quorum.nodes[stopping].stop()
    # Fenced long before its 60 s session could expire.
    wait_until(lambda: stopping not in live_brokers(quorum.bootstrap(leader)), timeout=10,
               message="the stopped broker fenced by its controlled shutdown")
    assert states(quorum.bootstrap(leader))[stopping] == "controlled-shutdown"
    # Back again: registered anew, serving.
    quorum.nodes[stopping].start()
    wait_until(lambda: states(quorum.bootstrap(leader)) == {1: "registered", 2: "registered", 3: "registered"},
               timeout=30, message="the returning broker registered")


def test_a_broker_that_joins_takes_new_partitions(quorum_factory):
    quorum = quorum_factory(3, extra={n: list(FAST) for n in (1, 2, 3, 4)}, brokers=1, start=False)
    for node in (1, 2, 3):
        quorum.nodes[node].start()
    quorum.wait_for_leader(1, 2, 3)
    wait_until(lambda: live_brokers(quorum.bootstrap(1)) == {1, 2, 3}, timeout=30, message="three brokers")
    create_on_controller(quorum.bootstrap(1, 2, 3), "before-join", 3)

    quorum.nodes[4].start()  # process.roles=broker: an observer of the quorum
    wait_until(lambda: live_brokers(quorum.bootstrap(4)) == {1, 2, 3, 4}, timeout=30, message="the new broker")
    assert "before-join" in metadata(quorum.bootstrap(4)).topics, "the observer has the metadata log"
    create_on_controller(quorum.bootstrap(1, 2, 3), "after-join", 8)
    placed = wait_until(lambda: len(l := leaders(quorum.bootstrap(4), "after-join")) == 8 and l, message="eight partitions")
    assert sorted(placed.values()) == [1, 1, 2, 2, 3, 3, 4, 4], placed

    producer = Producer({"bootstrap.servers": quorum.bootstrap(4)})
    for i in range(80):
        producer.produce("after-join", value=b"%d" % i, partition=i % 8)
    assert producer.flush(30) == 0


def test_controller_only_nodes_run_the_quorum_and_brokers_hold_the_data(quorum_factory):
    # Nodes 1-3 are controllers only (process.roles=controller); 4 and 5 are brokers only.
    quorum = quorum_factory(3, brokers=2, extra={n: ["process.roles=controller"] for n in (1, 2, 3)})
    leader, epoch = quorum.wait_for_leader(1, 2, 3)
    assert quorum.wait_for_brokers(2, 4) == {4, 5}
    create_on_controller(quorum.bootstrap(4), "data", 6)
    placed = wait_until(lambda: len(l := leaders(quorum.bootstrap(5), "data")) == 6 and l, message="six partitions")
    assert sorted(placed.values()) == [4, 4, 4, 5, 5, 5], placed

    producer = Producer({"bootstrap.servers": quorum.bootstrap(4, 5)})
    for i in range(60):
        producer.produce("data", value=b"d%d" % i, partition=i % 6)
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": quorum.bootstrap(5), "group.id": "readers", "auto.offset.reset": "earliest"})
    consumer.subscribe(["data"])
    values = set()
    deadline = time.monotonic() + 60
    while len(values) < 60 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error():
            values.add(message.value())
    consumer.close()
    assert values == {b"d%d" % i for i in range(60)}

    # The active controller killed: another controller takes over and the brokers carry on.
    quorum.nodes[leader].kill()
    survivors = [n for n in (1, 2, 3) if n != leader]
    quorum.wait_for_leader(*survivors, newer_than=epoch)
    wait_until(lambda: _created(quorum.bootstrap(4), "after-failover"), timeout=30, message="a topic after the failover")
    assert quorum.wait_for_brokers(2, 5) == {4, 5}


def _created(bootstrap: str, topic: str) -> bool:
    try:
        create_on_controller(bootstrap, topic, 2)
        return True
    except Exception:  # noqa: BLE001  (the new controller is still being found)
        return topic in metadata(bootstrap).topics


def test_a_second_broker_with_a_live_brokers_node_id_is_refused(quorum_factory, tmp_path):
    quorum = quorum_factory(3, brokers=1)
    quorum.wait_for_leader(1, 2, 3)
    quorum.wait_for_brokers(4, 1)
    format_storage(str(tmp_path), 4, quorum.cluster_id)
    duplicate = BrokerProcess(tmp_path, ["node.id=4", f"controller.quorum.voters={quorum.voters}", "process.roles=broker",
                                         "broker.heartbeat.interval.ms=200"])
    duplicate.start()
    try:
        wait_until(lambda: any("another live broker is registered with node.id 4" in line for line in duplicate.output),
                   timeout=30, message="the duplicate refused")
        # The first broker 4 keeps its place: its address is the one clients are given.
        brokers = metadata(quorum.bootstrap(1)).brokers
        assert set(brokers) == {1, 2, 3, 4} and brokers[4].port == quorum.nodes[4].port, brokers
    finally:
        duplicate.stop()


def test_dynamic_broker_configs_go_through_the_controller_and_survive_a_restart(quorum_factory):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource

    quorum = quorum_factory(3)
    leader, _ = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    target = next(n for n in quorum.nodes if n != leader)

    def described(key: str):
        admin = AdminClient({"bootstrap.servers": quorum.bootstrap(target)})
        resource = ConfigResource("broker", str(target))
        return admin.describe_configs([resource])[resource].result(30)[key]

    # librdkafka sends a broker's configs to that broker, which is not the controller: it
    # forwards, the controller records them, and the broker applies them as they commit.
    admin = AdminClient({"bootstrap.servers": quorum.bootstrap(leader)})
    change = ConfigResource("broker", str(target), incremental_configs=[
        ConfigEntry("message.max.bytes", "3000000", incremental_operation=AlterConfigOpType.SET)])
    admin.incremental_alter_configs([change])[change].result(30)
    wait_until(lambda: described("message.max.bytes").value == "3000000", message="the broker applying its new config")
    assert described("message.max.bytes").source == ConfigSource.DYNAMIC_BROKER_CONFIG.value

    # brook configs, bootstrapped at the leader, names another broker: the controller records it.
    succeeded(brook("configs", "alter", "--bootstrap-server", quorum.bootstrap(leader), "--entity-type", "brokers",
                    "--entity-name", str(target), "--add-config", "log.retention.ms=1234567"))
    wait_until(lambda: described("log.retention.ms").value == "1234567", message="the second config applied")

    # A key that cannot change at run time is refused by the controller, naming it.
    static = ConfigResource("broker", str(target), incremental_configs=[
        ConfigEntry("log.dirs", "/elsewhere", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as refused:
        admin.incremental_alter_configs([static])[static].result(30)
    assert "Cannot update these configs dynamically" in str(refused.value)

    # The configs are in the replicated metadata: a restart applies them again.
    quorum.nodes[target].stop()
    quorum.nodes[target].start()
    quorum.wait_for_brokers(3)
    wait_until(lambda: described("message.max.bytes").value == "3000000", timeout=30, message="the config after a restart")
    assert described("log.retention.ms").value == "1234567"

    # DELETE goes the same way.
    removal = ConfigResource("broker", str(target), incremental_configs=[
        ConfigEntry("message.max.bytes", None, incremental_operation=AlterConfigOpType.DELETE)])
    at_target = AdminClient({"bootstrap.servers": quorum.bootstrap(target)})
    at_target.incremental_alter_configs([removal])[removal].result(30)
    wait_until(lambda: described("message.max.bytes").source != ConfigSource.DYNAMIC_BROKER_CONFIG.value,
               message="the config removed")


def test_clients_are_told_the_listener_they_came_in_on_and_controllers_stay_unadvertised(tmp_path):
    from quorum_support import free_ports, random_cluster_id

    ports = free_ports(9)
    plain, external, controller = ports[0:3], ports[3:6], ports[6:9]
    voters = ",".join(f"{n + 1}@127.0.0.1:{controller[n]}" for n in range(3))
    cluster = random_cluster_id()
    nodes = []
    try:
        for n in range(3):
            directory = tmp_path / f"node-{n + 1}"
            format_storage(str(directory), n + 1, cluster)
            node = BrokerProcess(directory, [
                f"node.id={n + 1}", f"controller.quorum.voters={voters}", *FAST,
                f"listeners=PLAINTEXT://127.0.0.1:{plain[n]},EXTERNAL://127.0.0.1:{external[n]},CONTROLLER://127.0.0.1:{controller[n]}",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT"])
            node.port = plain[n]
            node.start()
            nodes.append(node)

        def ports_told(port: int) -> set[int]:
            try:
                metadata = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"}).list_topics(timeout=10)
            except KafkaException:
                return set()
            return {broker.port for broker in metadata.brokers.values()}

        # Each client is told every broker's endpoint on its own listener; the quorum's stay unadvertised.
        assert wait_until(lambda: ports_told(external[0]) == set(external) and ports_told(external[0]), timeout=30,
                          message="three brokers on EXTERNAL") == set(external)
        assert wait_until(lambda: ports_told(plain[1]) == set(plain) and ports_told(plain[1]),
                          message="three brokers on PLAINTEXT") == set(plain)

        # A transaction whose partitions and coordinator sit on different brokers commits: its
        # markers go between brokers on inter.broker.listener.name.
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{external[2]}"})
        admin.create_topics([NewTopic("listeners", 3, 1)], operation_timeout=10)["listeners"].result(30)
        producer = Producer({"bootstrap.servers": f"127.0.0.1:{external[0]}", "transactional.id": "listeners-tx"})
        producer.init_transactions(30)
        producer.begin_transaction()
        for i in range(30):
            producer.produce("listeners", value=f"v{i}".encode(), partition=i % 3)
        producer.commit_transaction(30)
        consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{external[1]}", "group.id": "listeners-g",
                             "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
        consumer.subscribe(["listeners"])
        seen = []
        deadline = time.monotonic() + 30
        while len(seen) < 30 and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                seen.append(message.value())
        consumer.close()
        assert sorted(seen) == sorted(f"v{i}".encode() for i in range(30))
    finally:
        for node in nodes:
            if node.is_running():
                node.stop()
