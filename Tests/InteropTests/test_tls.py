"""TLS listeners (issue 17, part 1): Brook serves an SSL listener beside a PLAINTEXT one with
Kafka's `ssl.*` settings in PEM form, and kcat, confluent-kafka and kafka-python produce and
consume over it with the settings they use for Kafka; with `ssl.client.auth=required` only a
client whose certificate the truststore's CA signed gets in. Each test makes its own CA and
certificates with openssl in a temporary folder."""
import re
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer

from cli_support import brook, failed_with, succeeded
from conftest import BrokerProcess, brook_binary, wait_until
from records_support import TIMEOUT

SSL_LISTENING = re.compile(r"SSL://([0-9.]+):(\d+)")


@dataclass
class Pki:
    folder: Path
    ca: Path
    keystore: Path          # the broker's key followed by its certificate chain
    server_key: Path
    server_cert: Path
    client_key: Path
    client_cert: Path
    rogue_key: Path         # a client certificate another CA signed
    rogue_cert: Path


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", f"/CN={name}")
    return key, cert


def sign(folder: Path, name: str, subject: str, ca: tuple[Path, Path], server: bool,
         client: bool | None = None) -> tuple[Path, Path]:
    """A key and a certificate the CA signed, for a server (valid for 127.0.0.1 and localhost),
    a client (`client`: by default, when not a server), or both (a broker reaching other brokers)."""
    key, request, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(request), "-subj", subject)
    extensions = folder / f"{name}.ext"
    usage = ",".join(u for u, wanted in (("serverAuth", server), ("clientAuth", not server if client is None else client)) if wanted)
    extensions.write_text(("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else "") + f"extendedKeyUsage={usage}\n")
    openssl("x509", "-req", "-in", str(request), "-CA", str(ca[1]), "-CAkey", str(ca[0]), "-CAcreateserial",
            "-out", str(cert), "-days", "2", "-extfile", str(extensions))
    return key, cert


@pytest.fixture
def pki(tmp_path) -> Pki:
    ca = make_ca(tmp_path, "ca")
    server_key, server_cert = sign(tmp_path, "server", "/CN=localhost/O=Brook", ca, server=True)
    client_key, client_cert = sign(tmp_path, "alice", "/C=US/O=Acme/OU=eng/CN=alice", ca, server=False)
    rogue = make_ca(tmp_path, "rogue-ca")
    rogue_key, rogue_cert = sign(tmp_path, "mallory", "/CN=mallory", rogue, server=False)
    keystore = tmp_path / "keystore.pem"
    keystore.write_text(server_key.read_text() + server_cert.read_text())
    return Pki(tmp_path, ca[1], keystore, server_key, server_cert, client_key, client_cert, rogue_key, rogue_cert)


def ssl_port(broker: BrokerProcess) -> int:
    for line in broker.output:
        match = SSL_LISTENING.search(line)
        if match:
            return int(match.group(2))
    raise AssertionError(f"no SSL listener in the broker's output: {''.join(broker.output)}")


def tls_broker(broker_factory, pki: Pki, *extra: str) -> tuple[BrokerProcess, str]:
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
        "ssl.keystore.type=PEM", f"ssl.keystore.location={pki.keystore}",
        "ssl.truststore.type=PEM", f"ssl.truststore.location={pki.ca}",
        "group.initial.rebalance.delay.ms=0", *extra)
    return broker, f"127.0.0.1:{ssl_port(broker)}"


def ssl_settings(pki: Pki, client_cert: bool = False) -> dict:
    settings = {"security.protocol": "SSL", "ssl.ca.location": str(pki.ca)}
    if client_cert:
        settings.update({"ssl.certificate.location": str(pki.client_cert), "ssl.key.location": str(pki.client_key)})
    return settings


def confluent_round_trip(bootstrap: str, settings: dict, topic: str, count: int = 2_000) -> None:
    """Creates `topic`, produces `count` records of 1 KiB and reads them back in a group."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **settings})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(timeout=TIMEOUT)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **settings})
    values = [f"{i:06d}".encode() + b"x" * 1018 for i in range(count)]
    for value in values:
        producer.produce(topic, value=value)
        producer.poll(0)
    assert producer.flush(TIMEOUT) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-group", "auto.offset.reset": "earliest",
                         **settings})
    consumer.subscribe([topic])
    received: list[bytes] = []

    def all_received() -> bool:
        message = consumer.poll(0.2)
        if message is not None:
            assert message.error() is None, message.error()
            received.append(message.value())
        return len(received) >= count

    wait_until(all_received, timeout=TIMEOUT, interval=0, message=f"{count} records over TLS")
    consumer.close()
    assert sorted(received) == values


def kcat_round_trip(bootstrap: str, security: list[str], topic: str, count: int) -> None:
    """kcat (`security`: its -X settings) produces `count` lines to `topic` and reads them back."""
    lines = [f"line-{i}" for i in range(count)]
    produced = subprocess.run(["kcat", "-b", bootstrap, *security, "-P", "-t", topic],
                              input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=TIMEOUT)
    assert produced.returncode == 0, produced.stderr
    consumed = subprocess.run(["kcat", "-b", bootstrap, *security, "-C", "-t", topic, "-o", "beginning",
                               "-c", str(count), "-e"], capture_output=True, text=True, timeout=TIMEOUT)
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.splitlines() == lines


def kafka_python_round_trip(bootstrap: str, settings: dict, topic: str, count: int) -> None:
    """kafka-python (`settings`: its keyword settings) produces `count` values and reads them in a group."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings)
    for i in range(count):
        producer.send(topic, f"value-{i}".encode())
    producer.flush(timeout=TIMEOUT)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=f"{topic}-group",
                             consumer_timeout_ms=int(TIMEOUT * 1000), **settings)
    received = []
    for message in consumer:
        received.append(message.value.decode())
        if len(received) == count:
            break
    consumer.close()
    assert received == [f"value-{i}" for i in range(count)]


def test_confluent_kafka_produces_and_consumes_over_ssl(broker_factory, pki):
    broker, bootstrap = tls_broker(broker_factory, pki)
    # 2 MB of records: fetches over TLS send bytes read from the log, not file regions.
    confluent_round_trip(bootstrap, ssl_settings(pki), "tls-confluent")
    # The metadata a TLS client gets names the SSL listener; the PLAINTEXT one still serves.
    metadata = AdminClient({"bootstrap.servers": bootstrap, **ssl_settings(pki)}).list_topics(timeout=TIMEOUT)
    assert [f"{b.host}:{b.port}" for b in metadata.brokers.values()] == [bootstrap]
    plain = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=TIMEOUT)
    assert [f"{b.host}:{b.port}" for b in plain.brokers.values()] == [broker.bootstrap]
    assert "tls-confluent" in plain.topics


def test_kcat_produces_and_consumes_over_ssl(broker_factory, pki):
    _, bootstrap = tls_broker(broker_factory, pki)
    kcat_round_trip(bootstrap, ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={pki.ca}"], "tls-kcat", 100)


def test_kafka_python_produces_and_consumes_over_ssl(broker_factory, pki):
    _, bootstrap = tls_broker(broker_factory, pki)
    kafka_python_round_trip(bootstrap, {"security_protocol": "SSL", "ssl_cafile": str(pki.ca), "ssl_check_hostname": True},
                            "tls-kafka-python", 50)


def test_required_client_certificates_admit_only_the_trusted_ca(broker_factory, pki):
    _, bootstrap = tls_broker(broker_factory, pki, "ssl.client.auth=required")
    confluent_round_trip(bootstrap, ssl_settings(pki, client_cert=True), "tls-mutual", count=200)

    def refused(settings: dict) -> bool:
        admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 3000, **settings})
        with pytest.raises(KafkaException):
            admin.list_topics(timeout=5)
        return True

    assert refused(ssl_settings(pki))  # no certificate
    assert refused({**ssl_settings(pki), "ssl.certificate.location": str(pki.rogue_cert),
                    "ssl.key.location": str(pki.rogue_key)})  # another CA's
    # The broker keeps serving the trusted client.
    assert "tls-mutual" in AdminClient({"bootstrap.servers": bootstrap, **ssl_settings(pki, client_cert=True)}) \
        .list_topics(timeout=TIMEOUT).topics


def test_the_wrong_protocol_on_either_port_is_refused_and_the_broker_keeps_serving(broker_factory, pki):
    broker, bootstrap = tls_broker(broker_factory, pki)
    host, port = bootstrap.split(":")
    # A plaintext Kafka request on the TLS port: the handshake fails and the connection closes.
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x04brok")
        raw.settimeout(10)
        answer = b""
        try:
            while chunk := raw.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    assert not answer.startswith(b"\x00\x00"), "a plaintext request got a Kafka answer on the TLS port"
    # A TLS client on the plaintext port gets no handshake.
    context = ssl.create_default_context(cafile=str(pki.ca))
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, TimeoutError, OSError)):
            with context.wrap_socket(raw, server_hostname="localhost") as wrapped:
                wrapped.recv(1)
    confluent_round_trip(bootstrap, ssl_settings(pki), "tls-after-bad", count=20)


def test_an_encrypted_key_and_inline_pem(broker_factory, pki):
    encrypted = pki.folder / "server-encrypted.key"
    openssl("pkcs8", "-topk8", "-in", str(pki.server_key), "-out", str(encrypted), "-passout", "pass:s3cret",
            "-v2", "aes-256-cbc")
    keystore = pki.folder / "encrypted-keystore.pem"
    keystore.write_text(encrypted.read_text() + pki.server_cert.read_text())
    broker = broker_factory("listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", "ssl.keystore.type=PEM",
                            f"ssl.keystore.location={keystore}", "ssl.key.password=s3cret")
    confluent_round_trip(f"127.0.0.1:{ssl_port(broker)}", ssl_settings(pki), "tls-encrypted", count=20)

    inline = broker_factory("listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", "ssl.keystore.type=PEM",
                            f"ssl.keystore.key={pki.server_key.read_text()}",
                            f"ssl.keystore.certificate.chain={pki.server_cert.read_text()}")
    confluent_round_trip(f"127.0.0.1:{ssl_port(inline)}", ssl_settings(pki), "tls-inline", count=20)


@pytest.mark.parametrize("settings, message", [
    ([], "set ssl.keystore.location"),
    (["ssl.keystore.type=PEM", "ssl.keystore.location=/nonexistent/keystore.pem"], "cannot read ssl.keystore.location"),
    (["ssl.keystore.type=JKS", "ssl.keystore.location=/tmp/x.jks"], "ssl.keystore.type JKS is not supported"),
    (["ssl.keystore.type=PEM", "ENCRYPTED", "ssl.key.password=wrong"], "private key cannot be read"),
    (["ssl.keystore.type=PEM", "ENCRYPTED"], "an encrypted key needs ssl.key.password"),
    (["ssl.keystore.type=PEM", "KEYSTORE", "ssl.enabled.protocols=SSLv3"], "ssl.enabled.protocols names SSLv3"),
    (["ssl.keystore.type=PEM", "KEYSTORE", "ssl.client.auth=required"], "needs ssl.truststore.location"),
    (["ssl.keystore.type=PEM", "KEYSTORE", "ssl.client.auth=sometimes"], "ssl.client.auth"),
    (["listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:TLS"], "listener.security.protocol.map"),
], ids=["no-keystore", "missing-file", "jks", "wrong-password", "no-password", "bad-protocol", "required-without-truststore",
        "bad-client-auth", "bad-protocol-map"])
def test_bad_tls_settings_stop_the_broker_with_a_clear_message(pki, tmp_path, settings, message):
    encrypted = pki.folder / "server-encrypted.key"
    openssl("pkcs8", "-topk8", "-in", str(pki.server_key), "-out", str(encrypted), "-passout", "pass:right",
            "-v2", "aes-256-cbc")
    keystore = pki.folder / "encrypted-keystore.pem"
    keystore.write_text(encrypted.read_text() + pki.server_cert.read_text())
    locations = {"KEYSTORE": pki.keystore, "ENCRYPTED": keystore}
    overrides = [f"ssl.keystore.location={locations[entry]}" if entry in locations else entry for entry in settings]
    args = [str(brook_binary()), "server", "--override", "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
            "--override", f"log.dirs={tmp_path / 'data'}"]
    for override in overrides:
        args += ["--override", override]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_new_keystore_is_loaded_without_a_restart(broker_factory, pki):
    """A dynamic per-listener keystore update (as kafka-configs sets it) reloads the listener's TLS
    context for new connections; one that does not load is refused and the old one stays."""
    broker, bootstrap = tls_broker(broker_factory, pki)
    other_ca = make_ca(pki.folder, "other-ca")
    key, cert = sign(pki.folder, "renewed", "/CN=localhost", other_ca, server=True)
    renewed = pki.folder / "renewed-keystore.pem"
    renewed.write_text(key.read_text() + cert.read_text())
    trusting_other = {"security.protocol": "SSL", "ssl.ca.location": str(other_ca[1])}

    def lists_topics(settings: dict) -> bool:
        try:
            AdminClient({"bootstrap.servers": bootstrap, **settings}).list_topics(timeout=5)
            return True
        except KafkaException:
            return False

    assert lists_topics(ssl_settings(pki)) and not lists_topics(trusting_other)
    alter = ["configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type", "brokers", "--entity-name", "1"]
    failed_with(brook(*alter, "--add-config", f"listener.name.ssl.ssl.keystore.location={pki.folder / 'missing.pem'}"),
                "Validation of dynamic config update of SSLFactory failed")
    assert lists_topics(ssl_settings(pki))
    succeeded(brook(*alter, "--add-config", f"listener.name.ssl.ssl.keystore.location={renewed}"))
    assert lists_topics(trusting_other) and not lists_topics(ssl_settings(pki))
    assert any("TLS keystore and truststore reloaded" in line for line in broker.output)
    # The keystore rewritten in place and set again: the first CA's certificate is back.
    renewed.write_text(pki.keystore.read_text())
    succeeded(brook(*alter, "--add-config", f"listener.name.ssl.ssl.keystore.location={renewed}"))
    assert lists_topics(ssl_settings(pki)) and not lists_topics(trusting_other)
