"""SASL/PLAIN (issue 17, part 2): SASL_PLAINTEXT and SASL_SSL listeners beside a PLAINTEXT one,
their users in the listener's JAAS config as Kafka's PlainLoginModule reads them. kcat,
confluent-kafka and kafka-python authenticate with the settings they use for Kafka; a wrong
password, an unknown user, an unoffered mechanism and requests before authentication are
refused with Kafka's errors while the broker keeps serving everyone else."""
import re
import struct
import subprocess
import time

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient
from kafka import KafkaProducer
from kafka.errors import KafkaError

import kafka_wire
from conftest import BrokerProcess, brook_binary, wait_until
from records_support import TIMEOUT
from test_tls import confluent_round_trip, kafka_python_round_trip, kcat_round_trip, pki  # noqa: F401  (pki is a fixture)

SASL_PLAINTEXT_LISTENING = re.compile(r"SASL_PLAINTEXT://([0-9.]+):(\d+)")
SASL_SSL_LISTENING = re.compile(r"SASL_SSL://([0-9.]+):(\d+)")
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" '
        'user_admin="admin-secret" user_alice="alice-secret";')


def listener_port(broker: BrokerProcess, pattern: re.Pattern) -> int:
    for line in broker.output:
        match = pattern.search(line)
        if match:
            return int(match.group(2))
    raise AssertionError(f"no such listener in the broker's output: {''.join(broker.output)}")


def sasl_broker(broker_factory, *extra: str) -> tuple[BrokerProcess, str]:
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={JAAS}", "group.initial.rebalance.delay.ms=0", *extra)
    return broker, f"127.0.0.1:{listener_port(broker, SASL_PLAINTEXT_LISTENING)}"


def plain(user: str, password: str, protocol: str = "SASL_PLAINTEXT") -> dict:
    return {"security.protocol": protocol, "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": password}


def refused(broker: BrokerProcess, bootstrap: str, settings: dict, reason: str) -> None:
    """A confluent-kafka admin client gets no metadata, and the broker logs why it refused it."""
    logged = len(broker.output)
    admin = AdminClient({"bootstrap.servers": bootstrap, **settings})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)
    wait_until(lambda: any(reason in line for line in broker.output[logged:]), timeout=10, message=reason)


def test_confluent_kafka_authenticates_with_plain(broker_factory):
    broker, bootstrap = sasl_broker(broker_factory)
    confluent_round_trip(bootstrap, plain("alice", "alice-secret"), "sasl-confluent", count=500)
    # The PLAINTEXT listener beside it still serves without authentication.
    assert "sasl-confluent" in AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=TIMEOUT).topics


def test_kcat_authenticates_with_plain(broker_factory):
    _, bootstrap = sasl_broker(broker_factory)
    kcat_round_trip(bootstrap, ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
                                "-X", "sasl.username=admin", "-X", "sasl.password=admin-secret"], "sasl-kcat", 50)


def test_kafka_python_authenticates_with_plain(broker_factory):
    _, bootstrap = sasl_broker(broker_factory)
    settings = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                "sasl_plain_username": "alice", "sasl_plain_password": "alice-secret"}
    kafka_python_round_trip(bootstrap, settings, "sasl-kafka-python", 30)
    with pytest.raises(KafkaError):
        KafkaProducer(bootstrap_servers=bootstrap, **{**settings, "sasl_plain_password": "wrong"},
                      max_block_ms=5000).send("sasl-kafka-python", b"x").get(timeout=5)


def test_sasl_ssl_authenticates_over_tls(broker_factory, pki):  # noqa: F811
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
        f"listener.name.sasl_ssl.plain.sasl.jaas.config={JAAS}",
        "ssl.keystore.type=PEM", f"ssl.keystore.location={pki.keystore}", "group.initial.rebalance.delay.ms=0")
    bootstrap = f"127.0.0.1:{listener_port(broker, SASL_SSL_LISTENING)}"
    settings = {**plain("alice", "alice-secret", "SASL_SSL"), "ssl.ca.location": str(pki.ca)}
    confluent_round_trip(bootstrap, settings, "sasl-ssl", count=300)
    refused(broker, bootstrap, {**settings, "sasl.password": "nope"}, "Invalid username or password")


def test_wrong_credentials_and_mechanisms_are_refused_and_others_keep_going(broker_factory):
    broker, bootstrap = sasl_broker(broker_factory)
    refused(broker, bootstrap, plain("alice", "wrong"), "Authentication failed: Invalid username or password")
    refused(broker, bootstrap, plain("nobody", "alice-secret"), "Authentication failed: Invalid username or password")
    refused(broker, bootstrap, {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
                                "sasl.username": "alice", "sasl.password": "alice-secret"},
            "unsupported SASL mechanism SCRAM-SHA-256")
    confluent_round_trip(bootstrap, plain("admin", "admin-secret"), "sasl-after-refusals", count=20)


def test_requests_before_authentication_close_the_connection(broker_factory):
    _, bootstrap = sasl_broker(broker_factory)
    token = b"\x00alice\x00alice-secret"
    authenticate = struct.pack(">i", len(token)) + token
    # Metadata v1 (all topics) before any SASL exchange: no answer, the connection closes.
    with kafka_wire.connect(bootstrap, timeout=10) as raw:
        raw.sendall(kafka_wire.request_frame(3, 1, 1, struct.pack(">i", -1)))
        assert kafka_wire.is_closed(raw)
    # SaslAuthenticate before SaslHandshake: ILLEGAL_SASL_STATE (34), then the connection closes.
    with kafka_wire.connect(bootstrap, timeout=10) as raw:
        raw.sendall(kafka_wire.request_frame(36, 1, 2, authenticate))
        assert struct.unpack(">ih", kafka_wire.read_frame(raw)[:6]) == (2, 34)
        assert kafka_wire.is_closed(raw)
    # The right order works on a raw socket too: handshake v1, then the PLAIN token.
    with kafka_wire.connect(bootstrap, timeout=10) as raw:
        raw.sendall(kafka_wire.request_frame(17, 1, 3, struct.pack(">h", 5) + b"PLAIN"))
        assert struct.unpack(">ih", kafka_wire.read_frame(raw)[:6]) == (3, 0)
        raw.sendall(kafka_wire.request_frame(36, 1, 4, authenticate))
        assert struct.unpack(">ih", kafka_wire.read_frame(raw)[:6]) == (4, 0)
        raw.sendall(kafka_wire.request_frame(3, 1, 5, struct.pack(">i", -1)))
        assert struct.unpack(">i", kafka_wire.read_frame(raw)[:4]) == (5,)


@pytest.mark.parametrize("settings, message", [
    (["listeners=SASL_PLAINTEXT://127.0.0.1:0"], "sasl.enabled.mechanisms is GSSAPI"),
    (["listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN"], "plain.sasl.jaas.config"),
    (["listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
      "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required;"], "names no user"),
], ids=["gssapi-default", "no-users", "empty-jaas"])
def test_bad_sasl_settings_stop_the_broker_with_a_clear_message(tmp_path, settings, message):
    args = [str(brook_binary()), "server", "--override", f"log.dirs={tmp_path / 'data'}"]
    for override in settings:
        args += ["--override", override]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr, result.stdout + result.stderr


def test_connections_reauthenticate_and_an_expired_session_is_closed(broker_factory):
    """KIP-368: with connections.max.reauth.ms a client authenticates again on its connection
    before its session ends; a connection that does not is closed at its next request."""
    broker, bootstrap = sasl_broker(broker_factory, "connections.max.reauth.ms=1500")
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **plain("alice", "alice-secret")})
    deadline = time.monotonic() + 6
    sent = 0
    while time.monotonic() < deadline:
        producer.produce("reauth", value=f"r{sent}".encode())
        sent += 1
        producer.poll(0.01)
    assert producer.flush(TIMEOUT) == 0
    assert any("re-authenticated as User:alice with PLAIN" in line for line in broker.output), "".join(broker.output[-20:])
    assert not any("session expired" in line for line in broker.output)
    # A raw connection that never re-authenticates: told its lifetime, then closed once past it.
    token = b"\x00alice\x00alice-secret"
    with kafka_wire.connect(bootstrap, timeout=10) as raw:
        raw.sendall(kafka_wire.request_frame(17, 1, 1, struct.pack(">h", 5) + b"PLAIN"))
        assert struct.unpack(">ih", kafka_wire.read_frame(raw)[:6]) == (1, 0)
        raw.sendall(kafka_wire.request_frame(36, 1, 2, struct.pack(">i", len(token)) + token))
        answer = kafka_wire.read_frame(raw)
        assert struct.unpack(">ih", answer[:6]) == (2, 0)
        assert struct.unpack(">q", answer[-8:]) == (1500,)  # session_lifetime_ms
        correlation = [3]

        def closed_after_expiry() -> bool:
            raw.sendall(kafka_wire.request_frame(3, 1, correlation[0], struct.pack(">i", -1)))
            correlation[0] += 1
            try:
                kafka_wire.read_frame(raw)
                return False
            except (ConnectionError, OSError, AssertionError, struct.error):
                return True

        wait_until(closed_after_expiry, timeout=15, interval=0.2, message="the expired session to be closed")
    wait_until(lambda: any("SASL session expired without re-authentication" in line for line in broker.output),
               timeout=10, message="the broker's log line")
