"""SASL/OAUTHBEARER (issue 17): JWTs the test signs (RS256, with openssl) are checked against a
JSON Web Key Set file as Kafka's KIP-768 validator checks them: signature, expiry, audience,
issuer, subject and scope claims. confluent-kafka (oauth_cb) and kafka-python (a token provider)
produce and consume with a good token; forged, expired, unsigned and wrong-audience tokens are
refused with SASL_AUTHENTICATION_FAILED and a log line."""
import base64
import http.server
import json
import re
import ssl
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka.net.sasl.oauth import AbstractTokenProvider

from cli_support import brook, succeeded
from conftest import BrokerProcess, brook_binary, wait_until
from records_support import TIMEOUT
from test_scram import sasl_bootstrap
from test_tls import pki  # noqa: F401  (fixture)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """An RSA key pair made with openssl, its JWKS file, and JWTs signed with it."""

    made = 0

    def __init__(self, folder, kid: str = "k1"):
        Issuer.made += 1
        self.kid = kid
        self.key = folder / f"issuer-{Issuer.made}.key"
        subprocess.run(["openssl", "genrsa", "-out", str(self.key), "2048"], check=True, capture_output=True, timeout=60)
        modulus = subprocess.run(["openssl", "rsa", "-in", str(self.key), "-noout", "-modulus"], check=True,
                                 capture_output=True, text=True, timeout=60).stdout.strip().split("=", 1)[1]
        self.jwk = {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"}

    def token(self, subject: str = "alice", expires_in: int = 3600, audience="brook", issuer: str = "tests",
              algorithm: str = "RS256", **claims) -> str:
        header = b64url(json.dumps({"alg": algorithm, "kid": self.kid, "typ": "JWT"}).encode())
        body = {"sub": subject, "exp": int(time.time()) + expires_in, "iat": int(time.time()), "aud": audience,
                "iss": issuer, "scope": "produce consume", **claims}
        payload = b64url(json.dumps(body).encode())
        if algorithm == "none":
            return f"{header}.{payload}."
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=f"{header}.{payload}".encode(),
                                   check=True, capture_output=True, timeout=60).stdout
        return f"{header}.{payload}.{b64url(signature)}"


def write_jwks(path, *issuers: Issuer) -> None:
    path.write_text(json.dumps({"keys": [issuer.jwk for issuer in issuers]}))


@pytest.fixture
def issuer(tmp_path) -> Issuer:
    return Issuer(tmp_path)


def oauth_broker(broker_factory, tmp_path, issuer: Issuer) -> tuple[BrokerProcess, str]:
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, issuer)
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=OAUTHBEARER",
        f"sasl.oauthbearer.jwks.endpoint.url=file://{jwks}", "sasl.oauthbearer.expected.audience=brook",
        "sasl.oauthbearer.expected.issuer=tests", "group.initial.rebalance.delay.ms=0")
    return broker, sasl_bootstrap(broker)


def confluent_settings(token: str) -> dict:
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER",
            "oauth_cb": lambda _config: (token, time.time() + 3600)}


def refused_with(broker: BrokerProcess, bootstrap: str, token: str, reason: str) -> None:
    logged = len(broker.output)
    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, **confluent_settings(token),
                         "error_cb": lambda error: errors.append(error)})
    wait_until(lambda: producer.poll(0.1) is not None and any(e.code() == KafkaError._AUTHENTICATION for e in errors),
               timeout=20, message="an authentication error")
    wait_until(lambda: any(reason in line for line in broker.output[logged:]), timeout=10, message=reason)


def test_confluent_kafka_and_kafka_python_authenticate_with_a_signed_jwt(broker_factory, tmp_path, issuer):
    broker, bootstrap = oauth_broker(broker_factory, tmp_path, issuer)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("oauth", 1, 1)])["oauth"].result(timeout=TIMEOUT)
    token = issuer.token()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **confluent_settings(token)})
    producer.poll(0)  # serves oauth_cb
    for i in range(50):
        producer.produce("oauth", value=f"c{i}".encode())
    assert producer.flush(TIMEOUT) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "oauth-readers", "auto.offset.reset": "earliest",
                         **confluent_settings(token)})
    consumer.subscribe(["oauth"])
    received = []

    def all_read() -> bool:
        message = consumer.poll(0.2)
        if message is not None:
            assert message.error() is None, message.error()
            received.append(message.value())
        return len(received) >= 50

    wait_until(all_read, timeout=TIMEOUT, interval=0, message="50 records")
    consumer.close()
    assert len(received) == 50

    class Provider(AbstractTokenProvider):
        def token(self):
            return issuer.token(subject="bob")

    settings = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER", "sasl_oauth_token_provider": Provider()}
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings)
    producer.send("oauth", b"kp").get(timeout=TIMEOUT)
    producer.close()
    consumer = KafkaConsumer("oauth", bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10000, **settings)
    assert sum(1 for _ in consumer) == 51
    consumer.close()


def test_bad_tokens_are_refused_and_keys_rotate_without_a_restart(broker_factory, tmp_path, issuer):
    broker, bootstrap = oauth_broker(broker_factory, tmp_path, issuer)
    forger = Issuer(tmp_path, kid="k1")  # the same key id, another key
    refused_with(broker, bootstrap, forger.token(), "invalid JWT signature")
    refused_with(broker, bootstrap, issuer.token(expires_in=-3600), "the JWT expired")
    refused_with(broker, bootstrap, issuer.token(audience="elsewhere"), "audience")
    refused_with(broker, bootstrap, issuer.token(issuer="mallory"), "issuer is not tests")
    refused_with(broker, bootstrap, issuer.token(algorithm="none"), "JWT algorithm none")
    # A new key joins the key set: tokens it signs are accepted, with no restart.
    rotated = Issuer(tmp_path, kid="k2")
    write_jwks(tmp_path / "jwks.json", issuer, rotated)
    producer = Producer({"bootstrap.servers": bootstrap, **confluent_settings(rotated.token(subject="carol"))})
    producer.poll(0)
    producer.produce("rotated", value=b"x")
    assert producer.flush(TIMEOUT) == 0
    assert any(re.search(r"failed authentication", line) for line in broker.output)


def test_oauthbearer_without_a_key_set_stops_the_broker_with_a_clear_message(tmp_path):
    result = subprocess.run([str(brook_binary()), "server", "--override", f"log.dirs={tmp_path / 'data'}",
                             "--override", "listeners=SASL_PLAINTEXT://127.0.0.1:0", "--override", "sasl.enabled.mechanisms=OAUTHBEARER"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "sasl.oauthbearer.jwks.endpoint.url" in result.stdout + result.stderr


class HttpsJwks:
    """An HTTPS server on 127.0.0.1 serving a JWKS document the test can change, and counting
    the fetches; its certificate is signed by the test CA (test_tls's `pki`)."""

    def __init__(self, pki, *issuers: Issuer):
        self.document = {"keys": [issuer.jwk for issuer in issuers]}
        self.fetches = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server name)
                owner.fetches += 1
                body = json.dumps(owner.document).encode() if self.path == "/jwks.json" else b""
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *issuers: Issuer) -> None:
        self.document = {"keys": [issuer.jwk for issuer in issuers]}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_key_set_served_over_https_is_fetched_and_refetched_for_a_new_key(broker_factory, tmp_path, issuer, pki):  # noqa: F811
    jwks = HttpsJwks(pki, issuer)
    try:
        jaas = ("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                f'ssl.truststore.location="{pki.ca}";')
        broker = broker_factory(
            "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=OAUTHBEARER",
            f"sasl.oauthbearer.jwks.endpoint.url={jwks.url}", "sasl.oauthbearer.expected.audience=brook",
            "sasl.oauthbearer.expected.issuer=tests", f"listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config={jaas}")
        bootstrap = sasl_bootstrap(broker)
        wait_until(lambda: jwks.fetches >= 1, timeout=TIMEOUT, message="the key set fetched")
        producer = Producer({"bootstrap.servers": bootstrap, **confluent_settings(issuer.token())})
        producer.poll(0)
        producer.produce("https-jwks", value=b"x")
        assert producer.flush(TIMEOUT) == 0
        # The issuer starts signing with a new key: the first token naming it is refused and
        # makes the broker fetch the key set again; then tokens it signs are accepted.
        rotated = Issuer(tmp_path, kid="k2")
        jwks.publish(issuer, rotated)
        fetched = jwks.fetches
        refused_with(broker, bootstrap, rotated.token(subject="dave"), "no key in the key set for kid k2")
        wait_until(lambda: jwks.fetches > fetched, timeout=TIMEOUT, message="the key set fetched again")
        producer = Producer({"bootstrap.servers": bootstrap, **confluent_settings(rotated.token(subject="dave"))})
        producer.poll(0)
        producer.produce("https-jwks", value=b"y")
        assert producer.flush(TIMEOUT) == 0
    finally:
        jwks.close()


def test_a_key_set_from_an_untrusted_server_is_not_used(broker_factory, tmp_path, issuer, pki):  # noqa: F811
    jwks = HttpsJwks(pki, issuer)
    try:
        # No ssl.truststore.location: the test CA is not among the system's roots.
        broker = broker_factory(
            "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=OAUTHBEARER",
            f"sasl.oauthbearer.jwks.endpoint.url={jwks.url}")
        refused_with(broker, sasl_bootstrap(broker), issuer.token(), "CERTIFICATE_VERIFY_FAILED")
        assert jwks.fetches == 0
    finally:
        jwks.close()


def test_kcats_unsigned_token_is_refused(broker_factory, tmp_path, issuer):
    """Debian's kcat (librdkafka 2.0.2, built without OIDC) can only make an unsecured JWT
    (alg none) itself, which Kafka's validator, and Brook, refuse."""
    broker, bootstrap = oauth_broker(broker_factory, tmp_path, issuer)
    logged = len(broker.output)
    result = subprocess.run(
        ["kcat", "-b", bootstrap, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=OAUTHBEARER",
         "-X", "enable.sasl.oauthbearer.unsecure.jwt=true", "-X", "sasl.oauthbearer.config=principal=alice",
         "-L", "-m", "5"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode != 0
    assert "Authentication failed" in result.stderr or "SASL authentication error" in result.stderr, result.stderr
    wait_until(lambda: any("JWT algorithm none" in line for line in broker.output[logged:]), timeout=10,
               message="the unsigned token refused")


def test_brooks_tools_authenticate_with_a_token_file(broker_factory, tmp_path, issuer):
    """`--command-config` with `sasl.oauthbearer.token.endpoint.url=file:...` (KIP-768's token
    file): Brook's own tools send the token the file holds, read again at each command."""
    broker, bootstrap = oauth_broker(broker_factory, tmp_path, issuer)
    token = tmp_path / "token.jwt"
    token.write_text(issuer.token(subject="operator"))
    config = tmp_path / "oauth.properties"
    config.write_text("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\n"
                      f"sasl.oauthbearer.token.endpoint.url=file://{token}\n")
    succeeded(brook("topics", "create", "--bootstrap-server", bootstrap, "--command-config", str(config), "--topic", "by-token"))
    assert "by-token" in succeeded(brook("topics", "list", "--bootstrap-server", bootstrap, "--command-config", str(config)))
    token.write_text(Issuer(tmp_path, kid="k1").token(subject="operator"))  # same key id, another key: forged
    result = brook("topics", "list", "--bootstrap-server", bootstrap, "--command-config", str(config))
    assert result.returncode != 0
    assert any("invalid JWT signature" in line for line in broker.output)
