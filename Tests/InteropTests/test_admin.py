"""Administrative APIs against real clients: topics, partitions, configs, cluster description.

confluent-kafka (librdkafka) and kafka-python drive the real `brook` binary; every test asserts on
what comes back, including the error paths clients rely on.
"""
import pytest
from confluent_kafka import ElectionType, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewPartitions, NewTopic,
)
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KafkaConfigResource
from kafka.admin import NewPartitions as KafkaNewPartitions
from kafka.admin import NewTopic as KafkaNewTopic
from kafka.errors import (
    InvalidConfigurationError, InvalidPartitionsError, InvalidTopicError, TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)

from conftest import wait_until

TIMEOUT = 30


@pytest.fixture
def admin(broker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap})


@pytest.fixture
def kafka_admin(broker):
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=TIMEOUT * 1000)
    yield client
    client.close()


def results(futures: dict) -> dict:
    """Resolves a dict of futures into {key: result or KafkaError}."""
    resolved = {}
    for key, future in futures.items():
        try:
            resolved[key] = future.result(timeout=TIMEOUT)
        except KafkaException as error:
            resolved[key] = error.args[0]
    return resolved


def error_code(outcome) -> int | None:
    return outcome.code() if isinstance(outcome, KafkaError) else None


def partition_counts(admin: AdminClient) -> dict[str, int]:
    return {name: len(topic.partitions) for name, topic in admin.list_topics(timeout=TIMEOUT).topics.items()}


def describe(admin: AdminClient, resource: ConfigResource) -> dict:
    return admin.describe_configs([resource])[resource].result(timeout=TIMEOUT)


# confluent-kafka

def test_confluent_creates_topics_with_configs_and_validate_only(admin):
    created = results(admin.create_topics([
        NewTopic("orders", 3, 1, config={"retention.ms": "3600000", "cleanup.policy": "compact"}),
        NewTopic("defaults"),
    ], operation_timeout=TIMEOUT))
    assert created == {"orders": None, "defaults": None}
    dry = results(admin.create_topics([NewTopic("dry-run", 2, 1)], validate_only=True))
    assert dry == {"dry-run": None}

    wait_until(lambda: "orders" in partition_counts(admin), message="orders in metadata")
    counts = partition_counts(admin)
    assert counts["orders"] == 3
    assert counts["defaults"] == 1  # num.partitions
    assert "dry-run" not in counts
    configs = describe(admin, ConfigResource("topic", "orders"))
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "compact"


def test_confluent_create_topic_errors(admin):
    admin.create_topics([NewTopic("taken", 1, 1)])["taken"].result(timeout=TIMEOUT)
    outcome = results(admin.create_topics([
        NewTopic("taken", 1, 1),
        NewTopic("bad/name", 1, 1),
        NewTopic("bad-config", 1, 1, config={"retention.ms": "forever"}),
        NewTopic("unknown-config", 1, 1, config={"no.such.config": "1"}),
        NewTopic("too-replicated", 1, 3),
    ]))
    assert error_code(outcome["taken"]) == KafkaError.TOPIC_ALREADY_EXISTS
    assert error_code(outcome["bad/name"]) == KafkaError.TOPIC_EXCEPTION
    assert error_code(outcome["bad-config"]) == KafkaError.INVALID_CONFIG
    assert error_code(outcome["unknown-config"]) == KafkaError.INVALID_CONFIG
    assert "no.such.config" in outcome["unknown-config"].str()
    assert error_code(outcome["too-replicated"]) == KafkaError.INVALID_REPLICATION_FACTOR
    assert set(partition_counts(admin)) == {"taken"}


def test_confluent_deletes_topics(admin):
    admin.create_topics([NewTopic("doomed", 2, 1), NewTopic("kept", 1, 1)])["doomed"].result(timeout=TIMEOUT)
    outcome = results(admin.delete_topics(["doomed", "never-existed"], operation_timeout=TIMEOUT))
    assert outcome["doomed"] is None
    assert error_code(outcome["never-existed"]) == KafkaError.UNKNOWN_TOPIC_OR_PART
    wait_until(lambda: "doomed" not in partition_counts(admin), message="doomed gone from metadata")
    assert "kept" in partition_counts(admin)
    # The name is free again.
    assert results(admin.create_topics([NewTopic("doomed", 1, 1)])) == {"doomed": None}


def test_confluent_delete_refused_when_disabled(broker_factory):
    broker = broker_factory("delete.topic.enable=false")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("stays", 1, 1)])["stays"].result(timeout=TIMEOUT)
    outcome = results(admin.delete_topics(["stays"]))
    assert error_code(outcome["stays"]) == KafkaError.TOPIC_DELETION_DISABLED
    assert "stays" in partition_counts(admin)


def test_confluent_creates_partitions_per_topic(admin):
    admin.create_topics([NewTopic("grows", 1, 1), NewTopic("full", 4, 1)])["grows"].result(timeout=TIMEOUT)
    dry = results(admin.create_partitions([NewPartitions("grows", 6)], validate_only=True))
    assert dry == {"grows": None}
    assert partition_counts(admin)["grows"] == 1
    outcome = results(admin.create_partitions([
        NewPartitions("grows", 4), NewPartitions("full", 2), NewPartitions("absent", 2),
    ]))
    assert outcome["grows"] is None
    assert error_code(outcome["full"]) == KafkaError.INVALID_PARTITIONS
    assert error_code(outcome["absent"]) == KafkaError.UNKNOWN_TOPIC_OR_PART
    wait_until(lambda: partition_counts(admin)["grows"] == 4, message="grows has 4 partitions")
    assert partition_counts(admin)["full"] == 4


def test_confluent_describe_configs_lists_defaults_with_sources(admin):
    admin.create_topics([NewTopic("described", 1, 1, config={"retention.ms": "1000"})])["described"].result(timeout=TIMEOUT)
    configs = describe(admin, ConfigResource("topic", "described"))
    assert {"cleanup.policy", "segment.bytes", "max.message.bytes", "min.insync.replicas"} <= set(configs)
    retention = configs["retention.ms"]
    assert retention.value == "1000"
    assert retention.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert not retention.is_default
    assert "retention.ms" in retention.synonyms
    segment = configs["segment.bytes"]
    assert segment.value == "1073741824"
    assert segment.source == ConfigSource.DEFAULT_CONFIG.value
    assert segment.is_default
    assert not segment.is_read_only

    broker = describe(admin, ConfigResource("broker", "1"))
    assert broker["log.dirs"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert broker["log.dirs"].is_read_only
    assert broker["message.max.bytes"].value == "1048588"
    assert broker["message.max.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert not broker["message.max.bytes"].is_read_only

    missing = ConfigResource("topic", "no-such-topic")
    with pytest.raises(KafkaException) as raised:
        describe(admin, missing)
    assert raised.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_confluent_alter_configs_replaces_the_overrides(admin):
    admin.create_topics([NewTopic("legacy", 1, 1, config={"retention.ms": "1000"})])["legacy"].result(timeout=TIMEOUT)
    resource = ConfigResource("topic", "legacy", set_config={"segment.ms": "600000"})
    assert results(admin.alter_configs([resource])) == {resource: None}
    configs = describe(admin, ConfigResource("topic", "legacy"))
    assert configs["segment.ms"].value == "600000"
    assert configs["segment.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value  # not named again: removed

    bad = ConfigResource("topic", "legacy", set_config={"segment.ms": "never"})
    assert error_code(results(admin.alter_configs([bad]))[bad]) == KafkaError.INVALID_CONFIG
    assert describe(admin, ConfigResource("topic", "legacy"))["segment.ms"].value == "600000"


def test_confluent_incremental_alter_configs(admin):
    admin.create_topics([NewTopic("tuned", 1, 1, config={"retention.ms": "1000"})])["tuned"].result(timeout=TIMEOUT)
    topic = ConfigResource("topic", "tuned", incremental_configs=[
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
        ConfigEntry("max.message.bytes", "2000000", incremental_operation=AlterConfigOpType.SET),
    ])
    assert results(admin.incremental_alter_configs([topic])) == {topic: None}
    configs = describe(admin, ConfigResource("topic", "tuned"))
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs["cleanup.policy"].value == "delete,compact"
    assert configs["max.message.bytes"].value == "2000000"

    broker = ConfigResource("broker", "1", incremental_configs=[
        ConfigEntry("message.max.bytes", "3000000", incremental_operation=AlterConfigOpType.SET),
    ])
    assert results(admin.incremental_alter_configs([broker])) == {broker: None}
    described = describe(admin, ConfigResource("broker", "1"))["message.max.bytes"]
    assert described.value == "3000000"
    assert described.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    # Topics without an override follow the dynamic broker value.
    assert describe(admin, ConfigResource("topic", "tuned"))["max.message.bytes"].value == "2000000"
    admin.create_topics([NewTopic("plain", 1, 1)])["plain"].result(timeout=TIMEOUT)
    plain = describe(admin, ConfigResource("topic", "plain"))["max.message.bytes"]
    assert plain.value == "3000000"
    assert plain.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value

    static = ConfigResource("broker", "1", incremental_configs=[
        ConfigEntry("log.dirs", "/elsewhere", incremental_operation=AlterConfigOpType.SET),
    ])
    outcome = results(admin.incremental_alter_configs([static]))[static]
    assert error_code(outcome) == KafkaError.INVALID_REQUEST
    assert "Cannot update these configs dynamically" in outcome.str()
    not_a_list = ConfigResource("topic", "tuned", incremental_configs=[
        ConfigEntry("compression.type", "gzip", incremental_operation=AlterConfigOpType.APPEND),
    ])
    assert error_code(results(admin.incremental_alter_configs([not_a_list]))[not_a_list]) == KafkaError.INVALID_CONFIG


def test_confluent_describe_cluster(admin, broker):
    cluster = admin.describe_cluster(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert cluster.cluster_id
    assert cluster.controller.id == 1
    assert [(node.id, node.host, node.port) for node in cluster.nodes] == [(1, "127.0.0.1", broker.port)]


def test_confluent_elect_leaders_is_never_needed(admin):
    admin.create_topics([NewTopic("led", 2, 1)])["led"].result(timeout=TIMEOUT)
    outcome = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition("led", 0), TopicPartition("led", 1), TopicPartition("unled", 0)]).result(timeout=TIMEOUT)
    codes = {(tp.topic, tp.partition): (error.code() if error else None) for tp, error in outcome.items()}
    assert codes == {
        ("led", 0): KafkaError.ELECTION_NOT_NEEDED,
        ("led", 1): KafkaError.ELECTION_NOT_NEEDED,
        ("unled", 0): KafkaError.UNKNOWN_TOPIC_OR_PART,
    }


# kafka-python

def test_kafka_python_creates_and_deletes_topics(kafka_admin):
    created = kafka_admin.create_topics({
        "kp-orders": {"num_partitions": 2, "replication_factor": 1, "configs": {"retention.ms": "5000"}},
        "kp-other": {"num_partitions": 1, "replication_factor": 1},
    })
    assert {topic["name"]: topic["error_code"] for topic in created["topics"]} == {"kp-orders": 0, "kp-other": 0}
    orders = next(topic for topic in created["topics"] if topic["name"] == "kp-orders")
    assert orders["num_partitions"] == 2
    assert orders["replication_factor"] == 1
    assert orders["configs"]["retention.ms"]["value"] == "5000"
    assert orders["configs"]["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert orders["configs"]["segment.bytes"]["config_source"] == "DEFAULT_CONFIG"

    dry = kafka_admin.create_topics({"kp-dry": {"num_partitions": 1, "replication_factor": 1}}, validate_only=True)
    assert dry["topics"][0]["error_code"] == 0
    assert "kp-dry" not in kafka_admin.list_topics()

    with pytest.raises(TopicAlreadyExistsError):
        kafka_admin.create_topics({"kp-orders": {"num_partitions": 1, "replication_factor": 1}})
    with pytest.raises(InvalidTopicError):
        kafka_admin.create_topics({"kp bad": {"num_partitions": 1, "replication_factor": 1}})
    with pytest.raises(InvalidConfigurationError):
        kafka_admin.create_topics({"kp-bad-config": {"num_partitions": 1, "replication_factor": 1, "configs": {"segment.bytes": "1"}}})
    with pytest.raises(InvalidPartitionsError):
        kafka_admin.create_topics({"kp-no-partitions": {"num_partitions": 0, "replication_factor": 1}})

    kafka_admin.delete_topics(["kp-orders"])
    wait_until(lambda: "kp-orders" not in kafka_admin.list_topics(), message="kp-orders deleted")
    assert "kp-other" in kafka_admin.list_topics()
    with pytest.raises(UnknownTopicOrPartitionError):
        kafka_admin.delete_topics(["kp-orders"])


def test_kafka_python_describes_configs_with_defaults(kafka_admin):
    kafka_admin.create_topics({"kp-configs": {"num_partitions": 1, "replication_factor": 1, "configs": {"cleanup.policy": "compact"}}})
    everything = kafka_admin.describe_configs([KafkaConfigResource("topic", "kp-configs")], include_synonyms=True, config_filter="all")
    configs = everything["topic"]["kp-configs"]
    assert configs["cleanup.policy"]["value"] == "compact"
    assert configs["cleanup.policy"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert [s["name"] for s in configs["cleanup.policy"]["synonyms"]] == ["cleanup.policy", "log.cleanup.policy"]
    assert configs["retention.ms"]["value"] == "604800000"
    assert configs["retention.ms"]["config_source"] == "DEFAULT_CONFIG"
    assert configs["retention.ms"]["config_type"] == "LONG"

    modified = kafka_admin.describe_configs([KafkaConfigResource("topic", "kp-configs")])
    assert set(modified["topic"]["kp-configs"]) == {"cleanup.policy"}

    broker = kafka_admin.describe_configs([KafkaConfigResource("broker", "1")], config_filter="all")["broker"]["1"]
    assert broker["log.dirs"]["config_source"] == "STATIC_BROKER_CONFIG"
    assert broker["log.dirs"]["read_only"] is True
    assert broker["num.partitions"]["value"] == "1"


def test_kafka_python_alters_configs(kafka_admin):
    kafka_admin.create_topics({"kp-alter": {"num_partitions": 1, "replication_factor": 1}})
    outcome = kafka_admin.alter_configs([KafkaConfigResource("topic", "kp-alter", {"retention.ms": "12345"})])
    assert outcome == {"topic": {"kp-alter": "OK"}}
    described = kafka_admin.describe_configs([KafkaConfigResource("topic", "kp-alter")])["topic"]["kp-alter"]
    assert described["retention.ms"]["value"] == "12345"
    outcome = kafka_admin.alter_configs([KafkaConfigResource("broker", "1", {"log.cleaner.threads": "2"})])
    assert outcome == {"broker": {"1": "OK"}}
    broker = kafka_admin.describe_configs([KafkaConfigResource("broker", "1")])["broker"]["1"]
    assert broker["log.cleaner.threads"]["value"] == "2"
    assert broker["log.cleaner.threads"]["config_source"] == "DYNAMIC_BROKER_CONFIG"


def test_kafka_python_creates_partitions_and_describes_them(kafka_admin):
    kafka_admin.create_topics({"kp-grow": {"num_partitions": 1, "replication_factor": 1}})
    kafka_admin.create_partitions({"kp-grow": KafkaNewPartitions(total_count=5)})
    with pytest.raises(InvalidPartitionsError):
        kafka_admin.create_partitions({"kp-grow": KafkaNewPartitions(total_count=2)})
    first = kafka_admin.describe_topic_partitions(["kp-grow"], response_partition_limit=3)
    assert [p["partition_index"] for p in first["topics"][0]["partitions"]] == [0, 1, 2]
    assert first["next_cursor"] == {"topic_name": "kp-grow", "partition_index": 3}
    rest = kafka_admin.describe_topic_partitions(["kp-grow"], response_partition_limit=3, cursor=first["next_cursor"])
    assert [p["partition_index"] for p in rest["topics"][0]["partitions"]] == [3, 4]
    assert rest["next_cursor"] is None


def test_kafka_python_describes_the_cluster(kafka_admin, broker):
    cluster = kafka_admin.describe_cluster()
    assert cluster["controller_id"] == 1
    assert [(b["broker_id"], b["port"]) for b in cluster["brokers"]] == [(1, broker.port)]
    assert "ALTER_CONFIGS" in cluster["authorized_operations"]


# Persistence

def test_topics_and_configs_survive_a_restart(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("durable", 2, 1, config={"retention.ms": "4242"})])["durable"].result(timeout=TIMEOUT)
    admin.create_partitions([NewPartitions("durable", 3)])["durable"].result(timeout=TIMEOUT)
    admin.create_topics([NewTopic("fleeting", 1, 1)])["fleeting"].result(timeout=TIMEOUT)
    admin.delete_topics(["fleeting"])["fleeting"].result(timeout=TIMEOUT)
    resource = ConfigResource("topic", "durable", incremental_configs=[
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET),
    ])
    admin.incremental_alter_configs([resource])[resource].result(timeout=TIMEOUT)
    del admin

    broker.restart()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    counts = partition_counts(admin)
    assert counts.get("durable") == 3
    assert "fleeting" not in counts
    configs = describe(admin, ConfigResource("topic", "durable"))
    assert configs["retention.ms"].value == "4242"
    assert configs["cleanup.policy"].value == "compact"
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value


def test_dynamic_broker_configs_survive_a_restart(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    resource = ConfigResource("broker", "1", incremental_configs=[
        ConfigEntry("message.max.bytes", "2500000", incremental_operation=AlterConfigOpType.SET),
    ])
    admin.incremental_alter_configs([resource])[resource].result(timeout=TIMEOUT)
    del admin

    broker.restart()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    described = describe(admin, ConfigResource("broker", "1"))["message.max.bytes"]
    assert described.value == "2500000"
    assert described.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
