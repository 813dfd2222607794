"""SASL/SCRAM (issue 17): SCRAM-SHA-256 and SCRAM-SHA-512 with credentials stored as Kafka stores
them (salted, iterated, in the metadata log as UserScramCredentialRecords), managed with
AlterUserScramCredentials / DescribeUserScramCredentials through `brook configs --entity-type
users` and confluent-kafka's admin client. kcat, confluent-kafka and kafka-python authenticate
with the settings they use for Kafka; wrong passwords, unknown and deleted users are refused."""
import re

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialDeletion,
                                   UserScramCredentialUpsertion)

from cli_support import brook, failed_with, succeeded
from conftest import BrokerProcess
from records_support import TIMEOUT
from test_sasl import SASL_PLAINTEXT_LISTENING, refused
from test_tls import confluent_round_trip, kafka_python_round_trip, kcat_round_trip


def scram_broker(broker_factory) -> tuple[BrokerProcess, str]:
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
        "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512", "group.initial.rebalance.delay.ms=0")
    return broker, sasl_bootstrap(broker)


def sasl_bootstrap(broker: BrokerProcess) -> str:
    """The SASL listener's address as the broker's latest start reported it."""
    ports = [m.group(2) for line in broker.output for m in [SASL_PLAINTEXT_LISTENING.search(line)] if m]
    assert ports, "".join(broker.output)
    return f"127.0.0.1:{ports[-1]}"


def scram(mechanism: str, user: str, password: str) -> dict:
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism, "sasl.username": user,
            "sasl.password": password}


def add_user(broker: BrokerProcess, user: str, config: str) -> None:
    out = succeeded(brook("configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                          "--entity-name", user, "--add-config", config))
    assert out.strip() == f"Completed updating config for user {user}."


def test_brook_configs_manages_scram_users_and_clients_authenticate(broker_factory):
    broker, bootstrap = scram_broker(broker_factory)
    add_user(broker, "alice", "SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-512]")
    described = succeeded(brook("configs", "describe", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                                "--entity-name", "alice"))
    assert described.strip() == ("SCRAM credential configs for user-principal 'alice' are "
                                 "SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096")
    confluent_round_trip(bootstrap, scram("SCRAM-SHA-256", "alice", "alice-secret"), "scram-256", count=300)
    confluent_round_trip(bootstrap, scram("SCRAM-SHA-512", "alice", "alice-512"), "scram-512", count=300)
    # Each mechanism has its own password.
    refused(broker, bootstrap, scram("SCRAM-SHA-256", "alice", "alice-512"), "Invalid client credentials for alice")
    refused(broker, bootstrap, scram("SCRAM-SHA-512", "nobody", "x"), "no SCRAM-SHA-512 credential for nobody")


def test_kcat_and_kafka_python_authenticate_with_scram(broker_factory):
    broker, bootstrap = scram_broker(broker_factory)
    add_user(broker, "bob", "SCRAM-SHA-512=[password=bob-secret]")
    kcat_round_trip(bootstrap, ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=SCRAM-SHA-512",
                                "-X", "sasl.username=bob", "-X", "sasl.password=bob-secret"], "scram-kcat", 50)
    add_user(broker, "carol", "SCRAM-SHA-256=[password=carol-secret]")
    kafka_python_round_trip(bootstrap, {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-256",
                                        "sasl_plain_username": "carol", "sasl_plain_password": "carol-secret"},
                            "scram-kafka-python", 30)


def test_confluent_admin_alters_and_describes_credentials_and_they_survive_a_restart(broker_factory):
    broker, bootstrap = scram_broker(broker_factory)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("dave", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"dave-secret"),
        UserScramCredentialUpsertion("erin", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 5000), b"erin-secret"),
    ])
    for future in futures.values():
        future.result(timeout=TIMEOUT)
    described = {user: f.result(timeout=TIMEOUT) for user, f in admin.describe_user_scram_credentials(["dave", "erin"]).items()}
    # Asked for every user (None), one future holds them all.
    assert sorted(admin.describe_user_scram_credentials(None).result(timeout=TIMEOUT)) == ["dave", "erin"]
    assert [(i.mechanism, i.iterations) for i in described["dave"].scram_credential_infos] == [(ScramMechanism.SCRAM_SHA_256, 4096)]
    assert [(i.mechanism, i.iterations) for i in described["erin"].scram_credential_infos] == [(ScramMechanism.SCRAM_SHA_512, 5000)]

    # The credentials are in the metadata log: a restarted broker still knows them.
    broker.restart()
    bootstrap = sasl_bootstrap(broker)
    confluent_round_trip(bootstrap, scram("SCRAM-SHA-256", "dave", "dave-secret"), "scram-restart", count=50)

    # A deleted credential no longer authenticates.
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for future in admin.alter_user_scram_credentials([UserScramCredentialDeletion("dave", ScramMechanism.SCRAM_SHA_256)]).values():
        future.result(timeout=TIMEOUT)
    refused(broker, bootstrap, scram("SCRAM-SHA-256", "dave", "dave-secret"), "no SCRAM-SHA-256 credential for dave")


def test_bad_credential_changes_get_kafkas_errors(broker_factory):
    broker, _ = scram_broker(broker_factory)
    failed_with(brook("configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                      "--entity-name", "frank", "--add-config", "SCRAM-SHA-256=[iterations=100,password=x]"),
                "Too few iterations")
    failed_with(brook("configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                      "--entity-name", "frank", "--add-config", "SCRAM-SHA-256=[iterations=20000,password=x]"),
                "Too many iterations")
    failed_with(brook("configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                      "--entity-name", "frank", "--delete-config", "SCRAM-SHA-512"),
                "Attempt to delete a user credential that does not exist")
    # A user with neither credentials nor quotas has nothing to describe.
    assert succeeded(brook("configs", "describe", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                           "--entity-name", "frank")) == ""
    failed_with(brook("configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type", "users",
                      "--entity-name", "frank", "--add-config", "SCRAM-SHA-256=[iterations=4096]"), "needs a password")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("gina", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"a"),
        UserScramCredentialUpsertion("gina", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"b"),
    ])
    with pytest.raises(KafkaException, match="cannot be altered twice"):
        futures["gina"].result(timeout=TIMEOUT)
    # Nothing of a refused user's changes was made.
    assert not re.search("gina", succeeded(brook("configs", "describe", "--bootstrap-server", broker.bootstrap,
                                                 "--entity-type", "users")))
