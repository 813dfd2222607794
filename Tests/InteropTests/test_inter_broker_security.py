"""Brokers and controllers that reach each other over TLS and SASL (issue 17: "inter-broker
traffic authenticates too"). Three nodes listen on an INTERNAL listener (between brokers, and
for clients) and a CONTROLLER listener (the quorum) that are SASL_SSL with PLAIN, or SSL with
required client certificates; an authorizer admits only the super users `User:broker` (the nodes
themselves) and `User:admin`. The quorum elects a leader, the brokers register, followers
replicate: each of those connections had to authenticate as User:broker. A node with the wrong
password stays out, and bad settings stop a node with a message naming the key to set."""
import re
import subprocess
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import brook_binary, wait_until
from quorum_support import Quorum, quorum_factory  # noqa: F401  (fixture)
from records_support import TIMEOUT
from test_tls import make_ca, sign

INTERNAL_LISTENING = re.compile(r"INTERNAL://([0-9.]+):(\d+)")
AUTHORIZER = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def node_jaas(password: str = "broker-secret") -> str:
    """A node's PLAIN JAAS config: its own credentials (username, password) and the users it admits."""
    return ('org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" '
            f'password="{password}" user_broker="broker-secret" user_admin="admin-secret";')


def certificate(folder: Path, ca: tuple[Path, Path], name: str) -> tuple[Path, Path]:
    """A key and a certificate for CN=`name` valid for 127.0.0.1 both as a server and as a client."""
    return sign(folder, name, f"/O=Brook/CN={name}", ca, server=True, client=True)


class Pki:
    def __init__(self, folder: Path):
        ca = make_ca(folder, "ca")
        self.ca = ca[1]
        broker_key, broker_cert = certificate(folder, ca, "broker")
        self.keystore = folder / "broker-keystore.pem"
        self.keystore.write_text(broker_key.read_text() + broker_cert.read_text())
        self.admin_key, self.admin_cert = certificate(folder, ca, "admin")


@pytest.fixture
def pki(tmp_path) -> Pki:
    return Pki(tmp_path)


def node_settings(protocol: str, pki: Pki, controller_port: int, password: str = "broker-secret") -> list[str]:
    """A node whose INTERNAL and CONTROLLER listeners are `protocol`; PLAINTEXT (first, as the
    test harness finds a node's port) admits only User:ANONYMOUS, which no ACL allows."""
    settings = [
        f"listeners=PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0,CONTROLLER://127.0.0.1:{controller_port}",
        f"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:{protocol},CONTROLLER:{protocol}",
        "inter.broker.listener.name=INTERNAL", "controller.listener.names=CONTROLLER",
        "ssl.keystore.type=PEM", f"ssl.keystore.location={pki.keystore}",
        "ssl.truststore.type=PEM", f"ssl.truststore.location={pki.ca}",
        AUTHORIZER, "super.users=User:broker;User:admin", "group.initial.rebalance.delay.ms=0",
    ]
    if protocol == "SASL_SSL":
        settings += ["sasl.enabled.mechanisms=PLAIN", "sasl.mechanism.inter.broker.protocol=PLAIN",
                     "sasl.mechanism.controller.protocol=PLAIN", f"sasl.jaas.config={node_jaas(password)}"]
    else:
        # Mutual TLS: the certificate's CN is the principal.
        settings += ["ssl.client.auth=required", "ssl.principal.mapping.rules=RULE:^CN=(.*?),O=Brook$/$1/,DEFAULT"]
    return settings


def admin_settings(protocol: str, pki: Pki) -> dict:
    settings = {"security.protocol": protocol, "ssl.ca.location": str(pki.ca)}
    if protocol == "SASL_SSL":
        settings.update({"sasl.mechanism": "PLAIN", "sasl.username": "admin", "sasl.password": "admin-secret"})
    else:
        settings.update({"ssl.certificate.location": str(pki.admin_cert), "ssl.key.location": str(pki.admin_key)})
    return settings


def internal_bootstrap(quorum: Quorum, *node_ids: int) -> str:
    addresses = []
    for node_id in node_ids or tuple(quorum.nodes):
        ports = [m.group(2) for line in quorum.nodes[node_id].output for m in [INTERNAL_LISTENING.search(line)] if m]
        assert ports, "".join(quorum.nodes[node_id].output)
        addresses.append(f"127.0.0.1:{ports[-1]}")
    return ",".join(addresses)


def secured_quorum(quorum_factory, protocol: str, pki: Pki, passwords: dict[int, str] | None = None) -> Quorum:
    quorum = quorum_factory(3, start=False)
    for node_id, node in quorum.nodes.items():
        node.overrides += node_settings(protocol, pki, node.port, (passwords or {}).get(node_id, "broker-secret"))
    return quorum.start()


def registered_brokers(bootstrap: str, settings: dict) -> set[int] | bool:
    """The brokers Metadata lists, each of which must be named by its address on the listener
    asked (INTERNAL), never by another listener's, from a node's first answer on."""
    try:
        brokers = AdminClient({"bootstrap.servers": bootstrap, **settings}).list_topics(timeout=10).brokers
    except Exception:  # noqa: BLE001  (no broker registered yet)
        return False
    internal = {f"127.0.0.1:{port}" for port in bootstrap.replace("127.0.0.1:", "").split(",")}
    assert all(f"{b.host}:{b.port}" in internal for b in brokers.values()), (brokers, bootstrap)
    return set(brokers)


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SSL"])
def test_nodes_elect_register_and_replicate_over_authenticated_encrypted_listeners(quorum_factory, pki, protocol):
    quorum = secured_quorum(quorum_factory, protocol, pki)
    bootstrap, settings = internal_bootstrap(quorum), admin_settings(protocol, pki)
    # Registering (broker to controller) needs a quorum leader (controllers to each other).
    wait_until(lambda: registered_brokers(bootstrap, settings) == {1, 2, 3}, timeout=60, interval=0.2,
               message="three brokers registered over the secured controller listener")
    admin = AdminClient({"bootstrap.servers": bootstrap, **settings})
    topic = f"replicated-{protocol.lower()}"
    admin.create_topics([NewTopic(topic, 3, 3, config={"min.insync.replicas": "3"})])[topic].result(timeout=TIMEOUT)

    # acks=all with min.insync.replicas=3: every record reached both followers, which fetched
    # it from the leader over the INTERNAL listener.
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, **settings})
    failures = []
    for i in range(600):
        producer.produce(topic, key=str(i).encode(), value=b"v" * 200,
                         on_delivery=lambda err, _msg: err and failures.append(err))
    assert producer.flush(TIMEOUT) == 0 and not failures, failures

    def in_sync() -> bool:
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions.values()
        return all(sorted(p.isrs) == [1, 2, 3] for p in partitions)
    wait_until(in_sync, timeout=TIMEOUT, message="every replica in sync")

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{protocol}", "auto.offset.reset": "earliest",
                         **settings})
    consumer.subscribe([topic])
    received = set()

    def all_received() -> bool:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            received.add(message.key())
        return len(received) == 600
    wait_until(all_received, timeout=TIMEOUT, interval=0, message="the 600 records consumed")
    consumer.close()

    # Anyone on PLAINTEXT is User:ANONYMOUS, neither a super user nor allowed by any ACL.
    anonymous = AdminClient({"bootstrap.servers": quorum.bootstrap(1)}).list_topics(timeout=TIMEOUT)
    assert topic not in anonymous.topics
    for node in quorum.nodes.values():
        assert not any("Authentication failed" in line or "is Denied" in line and "User:broker" in line
                       for line in node.output), "".join(node.output)


def test_a_node_with_the_wrong_password_is_kept_out(quorum_factory, pki):
    quorum = secured_quorum(quorum_factory, "SASL_SSL", pki, passwords={3: "not-the-secret"})
    bootstrap, settings = internal_bootstrap(quorum, 1, 2), admin_settings("SASL_SSL", pki)
    # Nodes 1 and 2 are a majority: they elect a leader and register; node 3's requests (votes,
    # fetches, its registration) are refused.
    wait_until(lambda: registered_brokers(bootstrap, settings) == {1, 2}, timeout=60, interval=0.2,
               message="nodes 1 and 2 registered")
    wait_until(lambda: any("Invalid username or password" in line for n in (1, 2) for line in quorum.nodes[n].output),
               timeout=TIMEOUT, message="node 3's authentication refused")
    assert registered_brokers(bootstrap, settings) == {1, 2}


@pytest.mark.parametrize("settings, message", [
    (["sasl.jaas.config=" + node_jaas()], "sasl.mechanism.inter.broker.protocol is GSSAPI"),
    (["sasl.mechanism.inter.broker.protocol=PLAIN", "sasl.mechanism.controller.protocol=PLAIN",
      'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_broker="b";'],
     "set username and password (this node's own credentials) in listener.name.internal.plain.sasl.jaas.config"),
], ids=["gssapi", "no-own-credentials"])
def test_bad_inter_node_settings_stop_the_node_with_a_clear_message(tmp_path, settings, message):
    args = [str(brook_binary()), "server", "--override", f"log.dirs={tmp_path / 'data'}",
            "--override", "listeners=PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
            "--override", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT",
            "--override", "inter.broker.listener.name=INTERNAL", "--override", "sasl.enabled.mechanisms=PLAIN",
            "--override", "node.id=1", "--override", "controller.quorum.voters=1@127.0.0.1:1"]
    for override in settings:
        args += ["--override", override]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr, result.stdout + result.stderr
