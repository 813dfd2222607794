#!/usr/bin/env python3
"""Security costs (issue 17), each against a reference measured in the same run:

    python3 scripts/bench/security.py handshakes [SECONDS]   (default 10)
    python3 scripts/bench/security.py acls [RECORDS]         (default 2,000,000 of 100 B)

handshakes: `brook` pinned to core 0 (taskset), one client process on core 1 opening connections
for SECONDS each: plain TCP connect + ApiVersions (the reference), a TLS handshake (RSA 2048
certificate, TLS 1.3) + ApiVersions, and SASL/SCRAM-SHA-256 (4096 iterations; the client derives
its key with hashlib, the server checks the proof) + ApiVersions. Printed: connections/s of each.
The client works as hard as the server (TLS: the handshake; SCRAM: the same PBKDF2), so these
are what one client core gets from one broker core, not the broker's ceiling.

acls: confluent-kafka produces RECORDS records of 100 B (as tls.py: acks=1, 1 MiB batches) to a broker
without an authorizer, then to one with StandardAuthorizer on where an ACL allows the client
(User:ANONYMOUS, not a super user, so every Produce is checked). Printed: records/s of each and
their ratio.

Uses the `brook` the interop tests use (BROOK_BINARY, else .build/debug or .build/release); a
release build gives the figures worth recording.
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient, NewTopic,  # noqa: E402
                                   ResourcePatternType, ResourceType)

import kafka_wire  # noqa: E402
from conftest import BrokerProcess, brook_binary  # noqa: E402
from test_sasl import SASL_PLAINTEXT_LISTENING, listener_port  # noqa: E402
from test_tls import ssl_port  # noqa: E402
from tls import produce, tls_broker  # noqa: E402

API_VERSIONS = kafka_wire.request_frame(18, 0, 1)


def api_versions(sock) -> None:
    sock.sendall(API_VERSIONS)
    kafka_wire.read_frame(sock)


def rate(seconds: float, connect) -> float:
    done, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        connect()
        done += 1
    return done / (time.monotonic() - started)


def scram_connect(host: str, port: int, user: str, password: str) -> None:
    with socket.create_connection((host, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(kafka_wire.request_frame(17, 1, 1, struct.pack(">h", 13) + b"SCRAM-SHA-256"))
        assert struct.unpack(">h", kafka_wire.read_frame(sock)[4:6]) == (0,)
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n={user},r={nonce}"

        def authenticate(token: bytes, correlation: int) -> bytes:
            sock.sendall(kafka_wire.request_frame(36, 1, correlation, struct.pack(">i", len(token)) + token))
            answer = kafka_wire.read_frame(sock)
            code, message_length = struct.unpack(">hh", answer[4:8])
            assert code == 0, answer
            offset = 8 + max(message_length, 0)
            (length,) = struct.unpack(">i", answer[offset:offset + 4])
            return answer[offset + 4:offset + 4 + length]

        server_first = authenticate(f"n,,{first_bare}".encode(), 2).decode()
        fields = dict(part.split("=", 1) for part in server_first.split(","))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        without_proof = f"c=biws,r={fields['r']}"
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        authenticate(f"{without_proof},p={base64.b64encode(proof).decode()}".encode(), 3)
        api_versions(sock)


def handshakes(seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="brook-handshake-bench-") as folder_name:
        folder = Path(folder_name)
        broker, ca = tls_broker(
            folder, "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=SCRAM-SHA-256")
        broker.start()
        try:
            subprocess.run(["taskset", "-a", "-p", "-c", "0", str(broker.process.pid)], check=True, capture_output=True)
            os.sched_setaffinity(0, {1})
            subprocess.run([str(brook_binary()), "configs", "alter", "--bootstrap-server", broker.bootstrap, "--entity-type",
                            "users", "--entity-name", "bench", "--add-config", "SCRAM-SHA-256=[iterations=4096,password=bench]"],
                           check=True, capture_output=True, timeout=60)
            host, port = "127.0.0.1", broker.port
            tls_port, sasl_port = ssl_port(broker), listener_port(broker, SASL_PLAINTEXT_LISTENING)
            context = ssl.create_default_context(cafile=str(ca))
            context.check_hostname = False

            def plain() -> None:
                with socket.create_connection((host, port)) as sock:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    api_versions(sock)

            def tls() -> None:
                with socket.create_connection((host, tls_port)) as raw:
                    # As librdkafka's sockets: without Nagle, the request written right after the
                    # handshake's last record does not wait 40 ms for a delayed ACK.
                    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with context.wrap_socket(raw) as sock:
                        api_versions(sock)

            reference = rate(seconds, plain)
            print(f"brook {broker.process.args[0]}: broker on core 0, one client on core 1, {seconds:.0f} s each")
            print(f"PLAINTEXT connect + ApiVersions: {reference:>8,.0f} /s")
            for name, connect in (("TLS handshake + ApiVersions", tls),
                                  ("SCRAM-SHA-256 (4096) + ApiVersions", lambda: scram_connect(host, sasl_port, "bench", "bench"))):
                measured = rate(seconds, connect)
                print(f"{name}: {measured:>8,.0f} /s ({measured / reference:.3f} of PLAINTEXT)")
        finally:
            broker.stop()


def produce_rate(bootstrap: str, topic: str, records: int) -> float:
    """Records of 100 B per second, produced as tls.py produces them."""
    return records / produce(bootstrap, {}, topic, records, 100)


def acls(records: int) -> None:
    authorizer = ["authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"]
    results = {}
    for name in ("no authorizer", "ACLs checked"):
        with tempfile.TemporaryDirectory(prefix="brook-acl-bench-") as folder:
            broker = BrokerProcess(Path(folder), [])
            if name == "ACLs checked":
                # First as a super user, to write the ACLs and the topic; then started again with
                # User:ANONYMOUS an ordinary principal, whose every Produce the ACLs decide.
                broker.overrides = authorizer + ["super.users=User:ANONYMOUS"]
                broker.start()
                admin = AdminClient({"bootstrap.servers": broker.bootstrap})
                bindings = [AclBinding(ResourceType.TOPIC, "bench", ResourcePatternType.PREFIXED, "User:ANONYMOUS", "*",
                                       AclOperation.ALL, AclPermissionType.ALLOW)]
                for future in admin.create_acls(bindings).values():
                    future.result(timeout=30)
                admin.create_topics([NewTopic("bench-acls", 1, 1)])["bench-acls"].result(timeout=30)
                broker.stop()
                broker.overrides = authorizer + ["super.users=User:admin"]
                broker.start()
            else:
                broker.start()
                admin = AdminClient({"bootstrap.servers": broker.bootstrap})
                admin.create_topics([NewTopic("bench-acls", 1, 1)])["bench-acls"].result(timeout=30)
            try:
                results[name] = produce_rate(broker.bootstrap, "bench-acls", records)
                print(f"{name:<14} {results[name]:>12,.0f} records/s")
            finally:
                broker.stop()
    print(f"ACLs checked / no authorizer: {results['ACLs checked'] / results['no authorizer']:.3f}")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "handshakes"
    if mode == "handshakes":
        handshakes(float(sys.argv[2]) if len(sys.argv) > 2 else 10)
    else:
        acls(int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000)
