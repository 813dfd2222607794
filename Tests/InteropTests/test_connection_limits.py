"""Kafka's connection and request-memory limits through the real broker: max.connections,
max.connections.per.ip (with overrides) and queued.max.request.bytes."""
import select
import socket
import struct
import subprocess

import kafka_wire
from conftest import brook_binary, wait_until
from records_support import consume, create_topic, kcat


def api_versions(sock: socket.socket, correlation_id: int) -> int:
    sock.sendall(kafka_wire.request_frame(18, 0, correlation_id))
    return struct.unpack(">i", kafka_wire.read_frame(sock)[:4])[0]


def answered_within(sock: socket.socket, seconds: float) -> bool:
    readable, _, _ = select.select([sock], [], [], seconds)
    return bool(readable)


def test_connections_over_the_per_ip_limit_are_closed_at_once(broker_factory):
    broker = broker_factory("max.connections.per.ip=2")
    first, second = kafka_wire.connect(broker.bootstrap), kafka_wire.connect(broker.bootstrap)
    assert api_versions(first, 1) == 1 and api_versions(second, 2) == 2
    third = kafka_wire.connect(broker.bootstrap)
    assert kafka_wire.is_closed(third)
    # A slot frees when a connection closes.
    first.close()
    def admitted() -> bool:
        sock = kafka_wire.connect(broker.bootstrap)
        try:
            return api_versions(sock, 3) == 3
        except (ConnectionError, OSError):
            return False
        finally:
            sock.close()
    wait_until(admitted, timeout=10, message="a connection after one closed")
    second.close()


def test_a_per_ip_override_replaces_the_default(broker_factory):
    broker = broker_factory("max.connections.per.ip=1", "max.connections.per.ip.overrides=127.0.0.1:3")
    sockets = [kafka_wire.connect(broker.bootstrap) for _ in range(3)]
    assert [api_versions(s, i) for i, s in enumerate(sockets)] == [0, 1, 2]
    extra = kafka_wire.connect(broker.bootstrap)
    assert kafka_wire.is_closed(extra)
    for sock in sockets:
        sock.close()


def test_at_max_connections_a_new_connection_waits_for_a_close(broker_factory):
    broker = broker_factory("max.connections=2")
    first, second = kafka_wire.connect(broker.bootstrap), kafka_wire.connect(broker.bootstrap)
    assert api_versions(first, 1) == 1 and api_versions(second, 2) == 2
    waiting = kafka_wire.connect(broker.bootstrap)  # completes in the kernel's backlog
    waiting.sendall(kafka_wire.request_frame(18, 0, 3))
    assert not answered_within(waiting, 1.0), "a third connection is not served at max.connections"
    first.close()
    assert answered_within(waiting, 15.0)
    assert struct.unpack(">i", kafka_wire.read_frame(waiting)[:4])[0] == 3
    waiting.close()
    second.close()


def test_requests_larger_than_queued_max_request_bytes_are_still_served(broker_factory):
    # A pool far smaller than one produce request: each request is admitted while anything is
    # left, so clients are slowed, never stalled.
    broker = broker_factory("queued.max.request.bytes=1000")
    create_topic(broker, "pooled")
    lines = b"".join(b"record-%05d-%s\n" % (i, b"x" * 200) for i in range(3000))
    result = kcat(broker, "-P", "-t", "pooled", "-p", "0", "-X", "batch.size=65536", input=lines)
    assert result.returncode == 0, result.stderr
    records = consume(broker, "pooled", count=3000)
    assert len(records) == 3000
    assert records[-1].value.startswith(b"record-02999-")


def test_malformed_per_ip_overrides_stop_startup_naming_the_key(tmp_path):
    result = subprocess.run(
        [str(brook_binary()), "server", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
         "--override", f"log.dirs={tmp_path}", "--override", "max.connections.per.ip.overrides=127.0.0.1"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "max.connections.per.ip.overrides" in result.stdout + result.stderr
