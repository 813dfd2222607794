"""`--command-config` (issue 17): Brook's own tools, through its client library, connect to secured
listeners with the settings file a Kafka client takes: SASL/PLAIN and SCRAM over SASL_PLAINTEXT,
and TLS (with a trusted CA, and a client certificate for mutual TLS) over SASL_SSL and SSL."""
import subprocess
from pathlib import Path

from cli_support import brook, failed_with, succeeded
from conftest import BrokerProcess, brook_binary
from test_acls import AUTHORIZER, JAAS
from test_scram import sasl_bootstrap
from test_tls import SSL_LISTENING, pki  # noqa: F401  (fixture)
from test_sasl import SASL_SSL_LISTENING, listener_port


def properties(folder: Path, name: str, **settings: str) -> str:
    path = folder / f"{name}.properties"
    path.write_text("".join(f"{key.replace('_', '.')}={value}\n" for key, value in settings.items()))
    return str(path)


def plain_jaas(user: str, password: str) -> str:
    return f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{user}" password="{password}";'


def scram_jaas(user: str, password: str) -> str:
    return f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{user}" password="{password}";'


def secured_broker(broker_factory) -> tuple[BrokerProcess, str]:
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={JAAS}", AUTHORIZER, "super.users=User:admin",
        "group.initial.rebalance.delay.ms=0")
    return broker, sasl_bootstrap(broker)


def test_tools_authenticate_with_plain_and_scram_and_are_authorized_as_their_user(broker_factory, tmp_path):
    broker, bootstrap = secured_broker(broker_factory)
    admin = properties(tmp_path, "admin", security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                       sasl_jaas_config=plain_jaas("admin", "admin-secret"))
    # Anonymous, over PLAINTEXT, the tool is refused; as admin it may do anything.
    failed_with(brook("topics", "create", "--bootstrap-server", broker.bootstrap, "--topic", "t1"), "TOPIC_AUTHORIZATION_FAILED")
    succeeded(brook("topics", "create", "--bootstrap-server", bootstrap, "--command-config", admin, "--topic", "t1"))
    succeeded(brook("configs", "alter", "--bootstrap-server", bootstrap, "--command-config", admin, "--entity-type", "users",
                    "--entity-name", "carol", "--add-config", "SCRAM-SHA-512=[password=carol-secret]"))
    succeeded(brook("acls", "add", "--bootstrap-server", bootstrap, "--command-config", admin, "--allow-principal", "User:carol",
                    "--producer", "--topic", "t1"))
    succeeded(brook("acls", "add", "--bootstrap-server", bootstrap, "--command-config", admin, "--allow-principal", "User:carol",
                    "--consumer", "--topic", "t1", "--group", "readers"))
    # Carol, with SCRAM-SHA-512, produces and consumes in her group.
    carol = properties(tmp_path, "carol", security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                       sasl_jaas_config=scram_jaas("carol", "carol-secret"))
    run = subprocess.run([str(brook_binary()), "produce", "--bootstrap-server", bootstrap, "--command-config", carol, "--topic", "t1"],
                         input="one\ntwo\nthree\n", capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    consumed = brook("consume", "--bootstrap-server", bootstrap, "--command-config", carol, "--topic", "t1",
                     "--group", "readers", "--from-beginning", "--max-messages", "3")
    assert consumed.returncode == 0 and consumed.stdout.split() == ["one", "two", "three"], consumed.stderr
    assert "Processed a total of 3 messages" in consumed.stderr
    # She may not create topics, and a wrong password is refused.
    failed_with(brook("topics", "create", "--bootstrap-server", bootstrap, "--command-config", carol, "--topic", "t2"),
                "TOPIC_AUTHORIZATION_FAILED")
    wrong = properties(tmp_path, "wrong", security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                       sasl_username="carol", sasl_password="nope")
    failed_with(brook("topics", "list", "--bootstrap-server", bootstrap, "--command-config", wrong), "SASL_AUTHENTICATION_FAILED")
    failed_with(brook("topics", "list", "--bootstrap-server", bootstrap, "--command-config", str(tmp_path / "missing.properties")),
                "cannot read the config file")
    bad = properties(tmp_path, "bad", security_protocol="SASL_PLAINTEXT", sasl_mechanism="GSSAPI")
    failed_with(brook("topics", "list", "--bootstrap-server", bootstrap, "--command-config", bad), "sasl.mechanism GSSAPI")


def test_tools_connect_over_tls_and_mutual_tls(broker_factory, pki, tmp_path):  # noqa: F811
    client_keystore = tmp_path / "client-keystore.pem"
    client_keystore.write_text(pki.client_key.read_text() + pki.client_cert.read_text())
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
        f"listener.name.sasl_ssl.plain.sasl.jaas.config={JAAS}", "ssl.keystore.type=PEM", f"ssl.keystore.location={pki.keystore}",
        f"ssl.truststore.location={pki.ca}", "ssl.truststore.type=PEM", "listener.name.ssl.ssl.client.auth=required")
    sasl_ssl = f"localhost:{listener_port(broker, SASL_SSL_LISTENING)}"
    over_sasl_ssl = properties(tmp_path, "sasl-ssl", security_protocol="SASL_SSL", sasl_mechanism="PLAIN",
                               sasl_jaas_config=plain_jaas("alice", "alice-secret"), ssl_truststore_location=str(pki.ca))
    succeeded(brook("topics", "create", "--bootstrap-server", sasl_ssl, "--command-config", over_sasl_ssl, "--topic", "secure"))
    assert "secure" in succeeded(brook("topics", "list", "--bootstrap-server", sasl_ssl, "--command-config", over_sasl_ssl))
    ssl = f"localhost:{listener_port(broker, SSL_LISTENING)}"  # the SSL listener is named before SASL_SSL
    mutual = properties(tmp_path, "mtls", security_protocol="SSL", ssl_truststore_location=str(pki.ca),
                        ssl_keystore_location=str(client_keystore))
    assert "secure" in succeeded(brook("topics", "list", "--bootstrap-server", ssl, "--command-config", mutual))
    # Without a client certificate the SSL listener refuses the handshake.
    one_way = properties(tmp_path, "one-way", security_protocol="SSL", ssl_truststore_location=str(pki.ca))
    failed_with(brook("topics", "list", "--bootstrap-server", ssl, "--command-config", one_way, "--timeout-ms", "5000"))
