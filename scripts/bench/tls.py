#!/usr/bin/env python3
"""TLS cost (issue 17): one `brook` with PLAINTEXT, SSL and SASL_SSL (PLAIN) listeners, in one run.

    python3 scripts/bench/tls.py [RECORDS] [SIZE ...]     (default 1,000,000 of 100 and 1024 B)

For each record size: confluent-kafka (librdkafka) produces RECORDS records (acks=1, linger 5 ms,
1 MiB batches) to a new one-partition topic over PLAINTEXT, then to others over SSL and SASL_SSL;
then kcat reads each topic from the beginning over the same protocol.
Printed: records/s and MB/s of each, and SSL / PLAINTEXT and SASL_SSL / PLAINTEXT. A plaintext fetch is sent from the
page cache with sendfile; an SSL fetch reads the log into memory and encrypts it. The client's
own TLS work runs on the same two cores, so the ratio is the cost of TLS on both sides.

Uses the `brook` the interop tests use (BROOK_BINARY, else .build/debug or .build/release); a
release build gives the figures worth recording. The CA and certificates are made with openssl.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "InteropTests"))

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from conftest import BrokerProcess  # noqa: E402
from test_sasl import SASL_SSL_LISTENING, listener_port  # noqa: E402
from test_tls import make_ca, sign, ssl_port  # noqa: E402


def tls_broker(folder: Path, listeners: str, *settings: str) -> tuple[BrokerProcess, Path]:
    """A broker (not started) on `listeners` whose keystore a new CA in `folder` signed; the CA's certificate."""
    ca = make_ca(folder, "ca")
    key, cert = sign(folder, "server", "/CN=localhost", ca, server=True)
    keystore = folder / "keystore.pem"
    keystore.write_text(key.read_text() + cert.read_text())
    (folder / "data").mkdir()
    broker = BrokerProcess(folder / "data", [
        f"listeners={listeners}", "ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}", *settings])
    return broker, ca[1]


def produce(bootstrap: str, settings: dict, topic: str, records: int, size: int) -> float:
    """Seconds to produce `records` records of `size` bytes, all acknowledged."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": 1, "linger.ms": 5, "batch.size": 1 << 20,
                         "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1 << 20,
                         **settings})
    value = b"x" * size
    started = time.monotonic()
    for _ in range(records):
        while True:
            try:
                producer.produce(topic, value=value)
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(120) == 0
    return time.monotonic() - started


def consume(bootstrap: str, settings: dict, topic: str, records: int) -> float:
    """Seconds for kcat (librdkafka, no per-record Python work) to read `records` records from the
    beginning, printing one byte per record to /dev/null."""
    options = [argument for key, value in settings.items() for argument in ("-X", f"{key}={value}")]
    started = time.monotonic()
    subprocess.run(["kcat", "-b", bootstrap, *options, "-X", "fetch.max.bytes=52428800",
                    "-X", "max.partition.fetch.bytes=10485760", "-C", "-t", topic, "-o", "beginning",
                    "-c", str(records), "-e", "-q", "-f", "."], stdout=subprocess.DEVNULL, check=True, timeout=600)
    return time.monotonic() - started


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    sizes = [int(size) for size in sys.argv[2:]] or [100, 1024]
    with tempfile.TemporaryDirectory(prefix="brook-tls-bench-") as folder_name:
        folder = Path(folder_name)
        broker, ca = tls_broker(
            folder, "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
            'listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule '
            'required user_bench="bench-secret";')
        broker.start()
        try:
            protocols = {
                "PLAINTEXT": (broker.bootstrap, {}),
                "SSL": (f"127.0.0.1:{ssl_port(broker)}", {"security.protocol": "SSL", "ssl.ca.location": str(ca)}),
                "SASL_SSL": (f"127.0.0.1:{listener_port(broker, SASL_SSL_LISTENING)}", {
                    "security.protocol": "SASL_SSL", "ssl.ca.location": str(ca), "sasl.mechanisms": "PLAIN",
                    "sasl.username": "bench", "sasl.password": "bench-secret"}),
            }
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            print(f"{records} records per run, brook {broker.process.args[0]}")
            for size in sizes:
                results: dict[str, tuple[float, float]] = {}
                for name, (bootstrap, settings) in protocols.items():
                    topic = f"bench-{name.lower()}-{size}"
                    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
                    produced = produce(bootstrap, settings, topic, records, size)
                    consumed = consume(bootstrap, settings, topic, records)
                    results[name] = (produced, consumed)
                    for verb, seconds in (("produce", produced), ("consume", consumed)):
                        print(f"{size:>5} B {name:<9} {verb:<8} {records / seconds:>12,.0f} records/s "
                              f"{records * size / seconds / 1e6:>8.1f} MB/s")
                plain = results["PLAINTEXT"]
                for name in ("SSL", "SASL_SSL"):
                    secured = results[name]
                    print(f"{size:>5} B {name} / PLAINTEXT: produce {plain[0] / secured[0]:.2f}, consume {plain[1] / secured[1]:.2f}")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
