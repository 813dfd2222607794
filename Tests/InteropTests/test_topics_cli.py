"""`brook topics` (create, list, describe, alter, delete) against the real broker, cross-checked
with confluent-kafka's AdminClient: what one creates or changes the other sees, and every bad
input ends with exit status 1 and one line on stderr."""
from confluent_kafka import Consumer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

from cli_support import TIMEOUT, brook, closed_port, failed_with, silent_listener, succeeded, timed, usage_error
from conftest import wait_until


def topics(broker, *args: str):
    return brook("topics", *args, "--bootstrap-server", broker.bootstrap)


def confluent_topics(admin: AdminClient) -> dict[str, int]:
    """Topic name -> partition count, as librdkafka's metadata reports it."""
    return {name: len(topic.partitions) for name, topic in admin.list_topics(timeout=TIMEOUT).topics.items()}


def test_a_topic_created_by_brook_is_seen_by_confluent_with_its_partitions_and_configs(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    created = topics(broker, "create", "--topic", "cli-orders", "--partitions", "3", "--replication-factor", "1",
                     "--config", "retention.ms=3600000", "--config", "cleanup.policy=compact")
    assert succeeded(created) == "Created topic cli-orders.\n"

    assert confluent_topics(admin)["cli-orders"] == 3
    resource = ConfigResource("topic", "cli-orders")
    configs = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "compact"
    assert configs["cleanup.policy"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value

    # The description is kafka-topics', with the topic id confluent reports. librdkafka prints
    # ids in standard base64, Kafka (and Brook) in the URL-safe alphabet.
    description = admin.describe_topics(TopicCollection(["cli-orders"]))["cli-orders"].result(timeout=TIMEOUT)
    topic_id = str(description.topic_id).replace("+", "-").replace("/", "_")
    described = succeeded(topics(broker, "describe", "--topic", "cli-orders"))
    assert described.splitlines() == [
        f"Topic: cli-orders\tTopicId: {topic_id}\tPartitionCount: 3\tReplicationFactor: 1\t"
        "Configs: cleanup.policy=compact,retention.ms=3600000",
        *[f"\tTopic: cli-orders\tPartition: {p}\tLeader: 1\tReplicas: 1\tIsr: 1" for p in range(3)],
    ]

    # Growing it is seen by confluent; shrinking is refused by the broker.
    assert succeeded(topics(broker, "alter", "--topic", "cli-orders", "--partitions", "5")) == ""
    wait_until(lambda: confluent_topics(admin)["cli-orders"] == 5, timeout=TIMEOUT, message="5 partitions")
    failed_with(topics(broker, "alter", "--topic", "cli-orders", "--partitions", "2"), "INVALID_PARTITIONS")
    assert confluent_topics(admin)["cli-orders"] == 5

    assert succeeded(topics(broker, "delete", "--topic", "cli-orders")) == ""
    wait_until(lambda: "cli-orders" not in confluent_topics(admin), timeout=TIMEOUT, message="the topic to go")


def test_topics_created_by_confluent_are_listed_and_described(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic("from-confluent", 2, 1, config={"max.message.bytes": "2048"}),
                                   NewTopic("other", 1, 1)], operation_timeout=TIMEOUT)
    for future in futures.values():
        future.result(timeout=TIMEOUT)

    assert succeeded(topics(broker, "list")).splitlines() == ["from-confluent", "other"]
    assert succeeded(topics(broker, "list", "--topic", "from-.*")).splitlines() == ["from-confluent"]
    described = succeeded(topics(broker, "describe")).splitlines()
    assert [line.split("\t")[0] for line in described if not line.startswith("\t")] == ["Topic: from-confluent", "Topic: other"]
    assert described[0].endswith("\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: max.message.bytes=2048")
    assert described[-1] == "\tTopic: other\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1"


def test_internal_topics_are_listed_unless_excluded(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("plain", 1, 1)])["plain"].result(timeout=TIMEOUT)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "cli-internal", "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition("plain", 0, 0)], asynchronous=False)
    consumer.close()

    assert succeeded(topics(broker, "list")).splitlines() == ["__consumer_offsets", "plain"]
    assert succeeded(topics(broker, "list", "--exclude-internal")).splitlines() == ["plain"]
    described = succeeded(topics(broker, "describe", "--exclude-internal")).splitlines()
    assert described[0].startswith("Topic: plain\t")


def test_if_not_exists_and_if_exists_make_repeated_commands_harmless(broker):
    assert succeeded(topics(broker, "create", "--topic", "once")) == "Created topic once.\n"
    assert succeeded(topics(broker, "create", "--topic", "once", "--if-not-exists")) == ""
    assert succeeded(topics(broker, "delete", "--topic", "never", "--if-exists")) == ""
    assert succeeded(topics(broker, "alter", "--topic", "never", "--partitions", "4", "--if-exists")) == ""
    assert succeeded(topics(broker, "describe", "--topic", "never", "--if-exists")) == ""
    # Without a partition count the broker's num.partitions applies.
    assert "PartitionCount: 1\t" in succeeded(topics(broker, "describe", "--topic", "once"))


def test_bad_topic_commands_fail_with_one_line(broker):
    succeeded(topics(broker, "create", "--topic", "taken"))
    failed_with(topics(broker, "create", "--topic", "taken"), "TOPIC_ALREADY_EXISTS", "taken")
    failed_with(topics(broker, "create", "--topic", "no spaces!"), "INVALID_TOPIC_EXCEPTION")
    failed_with(topics(broker, "create", "--topic", "fine", "--config", "retention.ms=soon"), "INVALID_CONFIG", "retention.ms")
    failed_with(topics(broker, "create", "--topic", "fine", "--config", "no-equals-sign"), "key=val")
    failed_with(topics(broker, "create", "--topic", "fine", "--partitions", "0"), "The partitions must be greater than 0")
    failed_with(topics(broker, "create", "--topic", "fine", "--replication-factor", "0"), "replication factor")
    failed_with(topics(broker, "create", "--topic", "fine", "--replication-factor", "3"), "INVALID_REPLICATION_FACTOR")
    for action in (["describe"], ["delete"], ["alter", "--partitions", "3"]):
        failed_with(topics(broker, *action, "--topic", "missing"), "Topic 'missing' does not exist as expected")
    failed_with(topics(broker, "describe", "--topic", "(unclosed"), "not a valid topic name or regular expression")
    # Nothing above created a topic, even on a broker that auto-creates them.
    assert succeeded(topics(broker, "list")).splitlines() == ["taken"]

    usage_error(topics(broker, "create", "--topic", "x", "--no-such-flag"), "--no-such-flag")
    usage_error(topics(broker, "create", "--topic", "x", "--partitions", "many"), "'many'")
    usage_error(brook("topics", "create", "--topic", "x"), "--bootstrap-server")
    usage_error(topics(broker, "frobnicate"))


def test_an_unreachable_or_silent_broker_fails_fast_with_one_line():
    port = closed_port()
    failed_with(brook("topics", "list", "--bootstrap-server", f"127.0.0.1:{port}"), f"cannot connect to 127.0.0.1:{port}")
    failed_with(brook("topics", "list", "--bootstrap-server", "no-such-host.invalid:9092"), "cannot connect to no-such-host.invalid:9092")
    failed_with(brook("topics", "list", "--bootstrap-server", "not-an-address"), "not host:port")
    with silent_listener() as address:
        result, seconds = timed(lambda: brook("topics", "describe", "--bootstrap-server", address, "--timeout-ms", "1500"))
        failed_with(result, "no answer from the cluster", address)
        assert seconds < 10


def test_every_topics_command_has_help():
    for command in ([], ["create"], ["list"], ["describe"], ["alter"], ["delete"]):
        result = brook("topics", *command, "--help")
        assert result.returncode == 0, result.stderr
        assert "USAGE: brook topics" in result.stdout
        if command:
            assert "--bootstrap-server" in result.stdout
