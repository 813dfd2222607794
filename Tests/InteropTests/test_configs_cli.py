"""`brook configs` (describe, alter) against the real broker, cross-checked with confluent-kafka's
AdminClient in both directions, in kafka-configs' output format."""
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewTopic

from cli_support import TIMEOUT, brook, failed_with, succeeded


def configs(broker, *args: str):
    return brook("configs", *args, "--bootstrap-server", broker.bootstrap)


def confluent_configs(admin: AdminClient, kind: str, name: str) -> dict:
    resource = ConfigResource(kind, name)
    return admin.describe_configs([resource])[resource].result(timeout=TIMEOUT)


def test_topic_configs_altered_by_brook_are_seen_by_confluent(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("cfg", 1, 1, config={"cleanup.policy": "compact"})])["cfg"].result(timeout=TIMEOUT)

    assert succeeded(configs(broker, "describe", "--entity-type", "topics", "--entity-name", "cfg")).splitlines() == [
        "Dynamic configs for topic cfg are:",
        "  cleanup.policy=compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact, "
        "DEFAULT_CONFIG:log.cleanup.policy=delete}",
    ]

    altered = configs(broker, "alter", "--entity-type", "topics", "--entity-name", "cfg",
                      "--add-config", "retention.ms=7200000,cleanup.policy=[compact,delete]", "--delete-config", "cleanup.policy")
    # kafka-configs sends the SET and the DELETE of one key together; the broker refuses that.
    failed_with(altered, "INVALID_REQUEST")
    altered = configs(broker, "alter", "--topic", "cfg", "--add-config", "retention.ms=7200000,cleanup.policy=[compact,delete]")
    assert succeeded(altered) == "Completed updating config for topic cfg.\n"
    seen = confluent_configs(admin, "topic", "cfg")
    assert seen["retention.ms"].value == "7200000"
    assert seen["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert seen["cleanup.policy"].value == "compact,delete"

    assert succeeded(configs(broker, "alter", "--topic", "cfg", "--delete-config", "retention.ms")) == "Completed updating config for topic cfg.\n"
    seen = confluent_configs(admin, "topic", "cfg")
    assert seen["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    # What confluent sets, brook describes; --all lists every key, sorted.
    set_by_confluent = ConfigResource("topic", "cfg", incremental_configs=[
        ConfigEntry("segment.ms", "600000", incremental_operation=AlterConfigOpType.SET)])
    admin.incremental_alter_configs([set_by_confluent])[set_by_confluent].result(timeout=TIMEOUT)
    described = succeeded(configs(broker, "describe", "--topic", "cfg")).splitlines()
    assert [line.split("=")[0].strip() for line in described[1:]] == ["cleanup.policy", "segment.ms"]
    everything = succeeded(configs(broker, "describe", "--topic", "cfg", "--all")).splitlines()
    assert everything[0] == "All configs for topic cfg are:"
    keys = [line.split("=")[0].strip() for line in everything[1:]]
    assert keys == sorted(keys) and "retention.ms" in keys and len(keys) > 10
    assert "  retention.ms=604800000 sensitive=false synonyms={DEFAULT_CONFIG:log.retention.hours=168}" in everything


def test_broker_configs_are_described_and_altered(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    assert succeeded(configs(broker, "describe", "--entity-type", "brokers", "--entity-name", "1")) == "Dynamic configs for broker 1 are:\n"
    assert succeeded(configs(broker, "alter", "--broker", "1", "--add-config", "max.connections=1000")) == \
        "Completed updating config for broker 1.\n"
    assert confluent_configs(admin, "broker", "1")["max.connections"].value == "1000"
    assert succeeded(configs(broker, "describe", "--broker", "1")).splitlines() == [
        "Dynamic configs for broker 1 are:",
        "  max.connections=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:max.connections=1000, "
        "DEFAULT_CONFIG:max.connections=2147483647}",
    ]
    everything = succeeded(configs(broker, "describe", "--broker", "1", "--all"))
    assert f"  log.dirs={broker.data_dir} sensitive=false synonyms={{STATIC_BROKER_CONFIG:log.dirs={broker.data_dir}}}" in everything
    # Without a name: every broker, then the cluster-wide defaults (Brook has none).
    assert succeeded(configs(broker, "describe", "--entity-type", "brokers")).splitlines() == [
        "Dynamic configs for broker 1 are:",
        "  max.connections=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:max.connections=1000, "
        "DEFAULT_CONFIG:max.connections=2147483647}",
        "Default configs for brokers in the cluster are:",
    ]
    assert succeeded(configs(broker, "alter", "--broker", "1", "--delete-config", "max.connections")) == \
        "Completed updating config for broker 1.\n"
    assert confluent_configs(admin, "broker", "1")["max.connections"].source == ConfigSource.DEFAULT_CONFIG.value


def test_bad_config_commands_fail_with_one_line(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("t", 1, 1)])["t"].result(timeout=TIMEOUT)
    failed_with(configs(broker, "describe", "--topic", "missing"), "UNKNOWN_TOPIC_OR_PARTITION")
    failed_with(configs(broker, "alter", "--topic", "missing", "--add-config", "retention.ms=1"), "UNKNOWN_TOPIC_OR_PARTITION")
    failed_with(configs(broker, "alter", "--topic", "t", "--add-config", "retention.ms=soon"), "INVALID_CONFIG", "retention.ms")
    failed_with(configs(broker, "alter", "--topic", "t", "--add-config", "no.such.config=1"), "INVALID_CONFIG", "no.such.config")
    failed_with(configs(broker, "alter", "--topic", "t", "--delete-config", "retention.ms"), "Invalid config(s): retention.ms")
    failed_with(configs(broker, "alter", "--topic", "t", "--add-config", "novalue"), "key=val")
    failed_with(configs(broker, "alter", "--topic", "t", "--add-config", "bad key=1"), "Invalid character found for config key")
    failed_with(configs(broker, "alter", "--topic", "t"), "--add-config or --delete-config")
    failed_with(configs(broker, "alter", "--broker", "1", "--add-config", "log.dirs=/elsewhere"), "INVALID_REQUEST")
    failed_with(configs(broker, "describe", "--broker", "one"), "valid integer broker id")
    failed_with(configs(broker, "describe", "--entity-type", "widgets", "--entity-name", "alice"), "Invalid entity type widgets")
    failed_with(configs(broker, "describe"), "Give the entity")
    failed_with(configs(broker, "describe", "--topic", "t", "--broker", "1"), "only one entity")
    failed_with(configs(broker, "alter", "--entity-type", "topics", "--add-config", "retention.ms=1"), "entity name")


def test_every_configs_command_has_help():
    for command in ([], ["describe"], ["alter"]):
        result = brook("configs", *command, "--help")
        assert result.returncode == 0, result.stderr
        assert "USAGE: brook configs" in result.stdout
