"""The network layer against real clients and hand-made bad frames."""
import socket
import struct
import subprocess
import threading

from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient

import kafka_wire
from conftest import wait_until


def test_kcat_lists_the_broker(broker):
    result = subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-J", "-m", "5"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert f'"name":"127.0.0.1:{broker.port}"' in result.stdout.replace(" ", "")
    assert '"controllerid":1' in result.stdout.replace(" ", "")


def test_confluent_kafka_negotiates_and_reads_metadata(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    metadata = admin.list_topics(timeout=10)
    assert list(metadata.brokers) == [1]
    assert metadata.brokers[1].port == broker.port
    assert metadata.controller_id == 1


def test_kafka_python_negotiates_and_reads_metadata(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        cluster = admin.describe_cluster()
        assert cluster["controller_id"] == 1
        assert [b["port"] for b in cluster["brokers"]] == [broker.port]
    finally:
        admin.close()


def test_metadata_auto_creates_topics(broker):
    result = subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-t", "auto.created", "-m", "5"], capture_output=True, text=True, timeout=30)
    assert "topic \"auto.created\" with 1 partitions" in result.stdout, result.stdout + result.stderr


def test_auto_creation_can_be_disabled(broker_factory):
    broker = broker_factory("auto.create.topics.enable=false")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    metadata = admin.list_topics(topic="not-created", timeout=10)
    assert metadata.topics["not-created"].error is not None
    assert metadata.topics["not-created"].error.name() == "UNKNOWN_TOPIC_OR_PART"


def test_unknown_api_versions_version_gets_a_v0_answer(broker):
    sock = kafka_wire.connect(broker.bootstrap)
    sock.sendall(kafka_wire.request_frame(18, 99, 7))
    response = kafka_wire.read_frame(sock)
    correlation_id, error_code, count = struct.unpack(">ihi", response[:10])
    assert correlation_id == 7
    assert error_code == 35  # UNSUPPORTED_VERSION
    keys = [struct.unpack(">hhh", response[10 + 6 * i: 16 + 6 * i]) for i in range(count)]
    assert (18, 0, 4) in keys
    sock.close()


def test_api_versions_v3_rejects_an_invalid_client_software_name(broker):
    sock = kafka_wire.connect(broker.bootstrap)
    sock.sendall(kafka_wire.request_frame(18, 3, 5, kafka_wire.api_versions_body(3, name="-bad name-")))
    response = kafka_wire.read_frame(sock)
    correlation_id, error_code = struct.unpack(">ih", response[:6])
    assert (correlation_id, error_code) == (5, 42)  # INVALID_REQUEST
    sock.close()


def test_pipelined_requests_are_answered_in_order(broker):
    sock = kafka_wire.connect(broker.bootstrap)
    frames = b"".join(
        kafka_wire.request_frame(18, version, 100 + i, kafka_wire.api_versions_body(version))
        for i, version in enumerate([0, 1, 2, 3, 0, 3] * 10)
    )
    sock.sendall(frames)
    ids = [struct.unpack(">i", kafka_wire.read_frame(sock)[:4])[0] for _ in range(60)]
    assert ids == list(range(100, 160))
    sock.close()


def test_oversized_request_closes_the_connection_and_the_broker_survives(broker_factory):
    broker = broker_factory("socket.request.max.bytes=1000")
    sock = kafka_wire.connect(broker.bootstrap)
    sock.sendall(struct.pack(">i", 10_000_000) + b"\x00" * 100)
    assert kafka_wire.is_closed(sock)
    fresh = kafka_wire.connect(broker.bootstrap)
    fresh.sendall(kafka_wire.request_frame(18, 0, 1))
    assert struct.unpack(">i", kafka_wire.read_frame(fresh)[:4])[0] == 1
    fresh.close()


def test_garbage_and_unknown_apis_close_only_that_connection(broker):
    for payload in [struct.pack(">i", -5), struct.pack(">i", 2) + b"\x00\x01", kafka_wire.request_frame(999, 0, 1)]:
        sock = kafka_wire.connect(broker.bootstrap)
        sock.sendall(payload)
        assert kafka_wire.is_closed(sock)
    assert broker.is_running()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    assert admin.list_topics(timeout=10).controller_id == 1


def test_truncated_request_body_closes_the_connection(broker):
    sock = kafka_wire.connect(broker.bootstrap)
    # Metadata v1 whose topic array claims 5 entries but carries none.
    sock.sendall(kafka_wire.request_frame(3, 1, 9, body=struct.pack(">i", 5)))
    assert kafka_wire.is_closed(sock)
    assert broker.is_running()


def test_sigterm_stops_cleanly(broker):
    assert broker.stop() == 0
    assert any("stopped cleanly" in line for line in broker.output)


def test_bad_config_stops_startup_naming_the_key(tmp_path):
    from conftest import brook_binary
    result = subprocess.run(
        [str(brook_binary()), "server", "--override", "num.partitions=zero", "--override", f"log.dirs={tmp_path}"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    assert "num.partitions" in result.stdout + result.stderr


def test_idle_connections_are_closed(broker_factory):
    broker = broker_factory("connections.max.idle.ms=300")
    sock = kafka_wire.connect(broker.bootstrap, timeout=10)
    assert kafka_wire.is_closed(sock)


def test_sigterm_while_clients_keep_connecting_stops_cleanly(broker_factory):
    # Connections accepted but not yet served when the listener closes must be dropped, not
    # trap the process (apple/swift-nio#2813: an async writer deinitialised unfinished).
    for round in range(3):
        broker = broker_factory()
        stop = threading.Event()
        opened = [0]

        def hammer():
            while not stop.is_set():
                try:
                    socket.create_connection(("127.0.0.1", broker.port), timeout=1).close()
                    opened[0] += 1
                except OSError:
                    pass

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: opened[0] >= 200, message="connections streaming in")
        status = broker.stop()
        stop.set()
        for thread in threads:
            thread.join()
        output = "".join(broker.output)
        assert status == 0, f"round {round}: exit status {status}\n{output[-2000:]}"
        assert "Fatal error" not in output
