#!/usr/bin/env python3
"""Exactly-once producer benchmark for Brook (issue 6, item 4).

Measures, with confluent-kafka (librdkafka) producers in this one Python process, the
throughput of
  - plain: enable.idempotence=false;
  - idempotent: enable.idempotence=true;
  - transactional, at each --intervals commit interval (default 1, 10 and 100 ms):
    begin_transaction, produce until the interval has elapsed since the begin,
    commit_transaction, and again until the round's time is up.
  - optionally (--variants ...,plain1), plain with max.in.flight.requests.per.connection=1: a
    reference for the idempotent producer, which librdkafka in effect limits to one Produce
    request in flight per partition (it counts records, not requests, against its limit of 5).
    When a full batch waits behind that request, librdkafka's broker thread wakes up again
    and again until the answer comes (millions of wake-ups per round with 1 KiB records on one
    partition, thousands for plain producers): each round prints the wake-up count.
All variants use acks=all and librdkafka's defaults for batching (linger.ms 5, batch.size
1,000,000, batch.num.messages 10,000), for the queue (queue.buffering.max.messages 100,000,
queue.buffering.max.kbytes 1 GiB) and compression (none). One setting differs from the
defaults, identically for every variant: delivery.report.only.error=true, because a Python
delivery callback for every record would cost the driver more than the produce() call itself;
errors still reach the callback.

The driver calls produce() in a tight loop (records of --sizes bytes, partition chosen round
robin over the topic's partitions, no key), poll(0) every --poll-every calls, reads the clock
every --check-every calls, and flushes at the end of the round. When produce() finds the queue
full (BufferError: delivery is the bottleneck) it waits with poll(0.001) and tries again; the
queue then still holds 100,000 records, so the broker never runs dry in that millisecond. How
often that happened is printed per round ("queue full"). A round's time runs from its
first produce() to the end of that flush (for transactions, the end of the last commit), and
lasts at least --seconds. Every round writes to a topic of its own (created before, deleted
after, outside the time), with a fresh producer that has delivered one warm-up record before
the time starts (in a transaction of its own for the transactional variants, after
init_transactions): without it the idempotent rounds would pay for librdkafka's start-up, which
asks for a producer id only after the first produce(), on a 500 ms timer, and sends nothing
until it has one (0.5-1 s here, with the queue filling up meanwhile). Each cycle runs the variants in the order plain, idempotent,
transactional at each interval; --rounds cycles per configuration (record size × partitions).

Page cache: on the project's VM, page-cache memory the guest has not touched lately is handed
back to the host and slow to touch again (see BENCHMARKS.md, "Broker throughput and latency"),
which would make the first 1 KiB rounds measure the hypervisor. So every round is preceded (not
timed) by a "pre-warm": --prewarm-mb MB written to a scratch file beside the broker's data and
deleted at once; its rate is printed per round (below ~1 GB/s it wrote into cold memory).

For every round it records the broker's CPU seconds (utime + stime from /proc/PID/stat), the
driver's (this process, librdkafka's threads included) and the cores other processes used
meanwhile (from /proc/stat), so a reader can tell which side was the bottleneck; and the load
average at its start. Medians over the rounds are reported, with ratios to the plain median of
the same configuration in the same run.

Checks (cheap, outside the time): after every round, the high watermarks of the round's topic
must add up to the records produced and the warm-up record (plus, for transactions, one commit
marker per partition per transaction that wrote to it) and the last stable offset a read_committed consumer sees
must equal the high watermark on every partition (no transaction left open); after the first
transactional round of each configuration, a read_committed consumer reads that topic to its
end and must count exactly the records of the committed transactions (the warm-up's included).

Run from the repository root after
`swift build -c release --product brook --scratch-path .build-rel`:

    python3 scripts/bench_transactions.py                        # starts .build-rel/release/brook itself
    python3 scripts/bench_transactions.py --brook PATH           # another brook binary
    python3 scripts/bench_transactions.py --bootstrap HOST:PORT  # a running broker
    python3 scripts/bench_transactions.py --rounds 1 --seconds 1 --sizes 100 --partitions 1  # quick run
    python3 scripts/bench_transactions.py --variants plain,idempotent,plain1,txn --rounds 5  # BENCHMARKS.md

Exits with status 1 on any delivery error, client error, failed transaction call, failed
check, or if the broker it started dies or does not stop cleanly.
"""
import argparse
import collections
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60.0  # seconds any single client call may take


class BenchError(Exception):
    """Something failed: the run is invalid."""


# --------------------------------------------------------------------------------------------
# The broker and the meters


class Broker:
    """`brook server` on 127.0.0.1 with an ephemeral port and a temporary data directory."""
    LISTENING = re.compile(r"listening on PLAINTEXT://([0-9.]+):(\d+)")

    def __init__(self, binary: Path):
        self.directory = tempfile.TemporaryDirectory(prefix="brook-bench-txn-")
        args = [str(binary), "server",
                "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--override", f"log.dirs={self.directory.name}/data"]  # the pre-warm writes beside it
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = collections.deque(maxlen=5000)
        deadline = time.monotonic() + 30
        for line in self.process.stdout:
            self.output.append(line)
            match = self.LISTENING.search(line)
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                threading.Thread(target=self._drain, daemon=True).start()
                return
            if time.monotonic() > deadline:
                break
        self.stop()
        raise BenchError("brook did not report its port:\n" + "".join(self.output))

    def _drain(self):
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> int:
        """SIGTERM, SIGKILL after 20 s; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.directory.cleanup()
        return self.process.returncode


def stop_broker(broker: Broker) -> bool:
    """Stops the broker; False if it had died or does not stop cleanly. Shows its complaints."""
    died = broker.process.poll() is not None
    status = broker.stop()
    complaints = [line for line in broker.output if re.search(r" (warning|error|critical) ", line)]
    print(f"broker exit status {status}{' (it had died during the run)' if died else ''}; "
          f"{len(complaints)} warning/error lines in its log", flush=True)
    for line in (broker.output if died or status != 0 else complaints[:20]):
        print("  " + line.rstrip())
    return status == 0 and not died


class Meter:
    """Wall time over a block, with the CPU time of the broker, of this process (all its threads)
    and of everything else on the machine."""

    def __init__(self, broker_pid):
        self.broker_pid = broker_pid

    def _broker_cpu(self) -> float:
        if self.broker_pid is None:
            return float("nan")
        fields = Path(f"/proc/{self.broker_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _machine_busy() -> float:
        """CPU seconds all processes spent, from /proc/stat (everything but idle and iowait)."""
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")

    def _sample(self):
        return self._broker_cpu(), time.process_time(), self._machine_busy()

    def start(self):
        self.load = os.getloadavg()[0]
        self.begin = self._sample()

    def stop(self, wall: float):
        self.wall = wall
        self.broker_cpu, self.driver_cpu, busy = (b - a for a, b in zip(self.begin, self._sample()))
        own = self.driver_cpu + (0 if self.broker_pid is None else self.broker_cpu)
        self.other_cores = max(0.0, (busy - own) / wall)


# --------------------------------------------------------------------------------------------
# One round


@dataclass
class Config:
    size: int
    partitions: int

    def __str__(self):
        return f"{self.size} B × {self.partitions} partition{'s' if self.partitions > 1 else ''}"


@dataclass
class Round:
    variant: str  # "plain", "idempotent", "plain 1-in-flight" or "txn N ms"
    records: int = 0
    commits: int = 0
    markers: int = 0  # commit markers written (one per partition per transaction that wrote to it)
    wall: float = 0.0
    flush: float = 0.0  # seconds spent in the final flush (plain, idempotent)
    commit_time: float = 0.0  # seconds spent in commit_transaction (transactional)
    queue_full: int = 0
    prewarm: float = 0.0  # MB/s of the pre-warm before the round
    warmup: float = 0.0  # seconds to deliver the warm-up record (not counted in `records`)
    meter: Meter = None
    stats: list = field(default_factory=list)  # librdkafka's statistics, one per second

    def rate(self) -> float:
        return self.records / self.wall


class Errors:
    """Delivery and client errors reported by librdkafka's callbacks (served by poll/flush)."""

    def __init__(self):
        self.messages = []

    def delivery(self, error, message):
        if error is not None:
            self.messages.append(f"delivery to {message.topic()}[{message.partition()}]: {error}")

    def client(self, error):
        self.messages.append(f"client error: {error}")

    def check(self, what: str):
        if self.messages:
            shown = "; ".join(self.messages[:5])
            raise BenchError(f"{what}: {len(self.messages)} errors: {shown}")


def producer_settings(bootstrap: str, variant: str, transactional_id: str, errors: Errors, stats: list) -> dict:
    settings = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": not variant.startswith("plain"),
        "delivery.report.only.error": True,
        "on_delivery": errors.delivery,
        "error_cb": errors.client,
        # Request counts and latencies, for the report.
        "statistics.interval.ms": 1000,
        "stats_cb": lambda data: stats.append(json.loads(data)),
    }
    if variant == "plain 1-in-flight":
        # What librdkafka's idempotent producer does in effect: it allows 5 requests in flight
        # per partition but counts the *records* in flight against that limit
        # (rd_kafka_toppar_producer_serve), so a partition has one request in flight once
        # batches hold 5 records or more.
        settings["max.in.flight.requests.per.connection"] = 1
    if variant.startswith("txn"):
        settings["transactional.id"] = transactional_id
    return settings


def prewarm(directory: str, megabytes: int) -> float:
    """Writes `megabytes` MB to a scratch file in `directory` and deletes it; returns MB/s."""
    if megabytes <= 0:
        return float("nan")
    path, block = Path(directory) / "bench-txn-prewarm", b"\0" * (1 << 20)
    start = time.perf_counter()
    with open(path, "wb") as scratch:
        for _ in range(megabytes):
            scratch.write(block)
    elapsed = time.perf_counter() - start
    path.unlink()
    return megabytes * (1 << 20) / elapsed / 1e6


def run_round(args, admin, bootstrap, broker_pid, config: Config, variant: str, number: int) -> tuple[Round, str]:
    """One round on a new topic; returns its figures and the topic (still there, to be checked)."""
    topic = f"{args.prefix}-{config.size}b-{config.partitions}p-{variant.replace(' ', '')}-{number}"
    create_topic(admin, topic, config.partitions)
    result, errors = Round(variant), Errors()
    producer = Producer(producer_settings(bootstrap, variant, topic, errors, result.stats))
    transactional = variant.startswith("txn")
    if transactional:
        producer.init_transactions(TIMEOUT)
    # One record (in a transaction of its own for the transactional variants), flushed before the
    # time starts: the producer then has its metadata, its connection to the partition's leader
    # and, when idempotent, its producer id. librdkafka only asks for the id (InitProducerId)
    # after the first produce(), on a 500 ms timer, and sends nothing until it has one while the
    # queue fills up: that start-up would otherwise be charged to the idempotent rounds.
    warm_start = time.perf_counter()
    if transactional:
        producer.begin_transaction()
    producer.produce(topic, b"warm-up", partition=0)
    if transactional:
        producer.commit_transaction(TIMEOUT)
        result.markers += 1
    elif producer.flush(TIMEOUT):
        raise BenchError(f"{variant}: the warm-up record was not delivered in {TIMEOUT} s")
    result.warmup = time.perf_counter() - warm_start
    errors.check(f"{variant}: warm-up")
    result.prewarm = prewarm(args.scratch, args.prewarm_mb)

    payload = os.urandom(config.size)
    queue_full = [0]

    def produce_until(deadline: float, n: int, produce=producer.produce, poll=producer.poll, clock=time.perf_counter,
                      topic=topic, payload=payload, partitions=config.partitions, poll_every=args.poll_every,
                      check_every=args.check_every) -> int:
        """Produces from record number `n` until the clock (read every check_every records) has
        passed `deadline`; at least check_every records. Returns the next record number."""
        while True:
            for _ in range(check_every):
                try:
                    produce(topic, payload, partition=n % partitions)
                except BufferError:
                    queue_full[0] += 1
                    poll(0.001)
                    continue
                n += 1
                if n % poll_every == 0:
                    poll(0)
            if clock() >= deadline:
                return n

    clock = time.perf_counter
    n = 0  # records produced this round
    meter = Meter(broker_pid)
    meter.start()
    start = clock()
    round_end = start + args.seconds
    if not transactional:
        n = produce_until(round_end, n)
        flush_start = clock()
        left = producer.flush(TIMEOUT)
        result.flush = clock() - flush_start
        if left:
            raise BenchError(f"{variant}: {left} records still undelivered after flush({TIMEOUT})")
    else:
        interval = int(variant.split()[1]) / 1000
        while True:
            begin = clock()
            if begin >= round_end:
                break
            producer.begin_transaction()
            first = n
            n = produce_until(begin + interval, n)
            commit_start = clock()
            try:
                producer.commit_transaction(TIMEOUT)
            except KafkaException as error:
                raise BenchError(f"{variant}: commit_transaction failed after {result.commits} commits: {error}")
            result.commit_time += clock() - commit_start
            result.commits += 1
            result.markers += min(n - first, config.partitions)
    result.wall = clock() - start
    meter.stop(result.wall)
    result.meter, result.records, result.queue_full = meter, n, queue_full[0]
    producer.poll(0)
    errors.check(variant)
    return result, topic


# --------------------------------------------------------------------------------------------
# Topics and checks


def create_topic(admin, topic: str, partitions: int):
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(timeout=TIMEOUT)


def delete_topic(admin, topic: str):
    admin.delete_topics([topic])[topic].result(timeout=TIMEOUT)


def make_consumer(bootstrap: str, isolation: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-txn-{isolation}-{os.getpid()}",
                     "isolation.level": isolation, "enable.auto.commit": False,
                     "enable.partition.eof": True, "auto.offset.reset": "earliest"})


def check_offsets(consumers: dict, topic: str, partitions: int, expected_end: int, what: str):
    """The high watermarks add up to `expected_end` and each partition's last stable offset (the
    read_committed end) equals its high watermark."""
    total = 0
    for partition in range(partitions):
        tp = TopicPartition(topic, partition)
        low, high = consumers["read_uncommitted"].get_watermark_offsets(tp, timeout=TIMEOUT, cached=False)
        _, stable = consumers["read_committed"].get_watermark_offsets(tp, timeout=TIMEOUT, cached=False)
        if stable != high:
            raise BenchError(f"{what}: {topic}[{partition}] last stable offset {stable} != high watermark {high}")
        total += high - low
    if total != expected_end:
        raise BenchError(f"{what}: {topic} holds {total} offsets, expected {expected_end}")


def count_committed(bootstrap: str, topic: str, partitions: int) -> int:
    """Records a read_committed consumer reads from the start of every partition to its end."""
    client = make_consumer(bootstrap, "read_committed")
    try:
        client.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        count, at_end = 0, set()
        while len(at_end) < partitions:
            messages = client.consume(10_000, TIMEOUT)
            if not messages:
                raise BenchError(f"read_committed consumer of {topic} got nothing for {TIMEOUT} s after {count} records")
            for message in messages:
                if message.error() is None:
                    count += 1
                elif message.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
                else:
                    raise BenchError(f"read_committed consumer of {topic}: {message.error()}")
        return count
    finally:
        client.close()


# --------------------------------------------------------------------------------------------
# Report


def median(values) -> float:
    return statistics.median(values)


def describe(result: Round, size: int) -> str:
    m = result.meter
    line = (f"{result.records / result.wall:>12,.0f} records/s {result.records * size / result.wall / 1e6:7.1f} MB/s  "
            f"{result.records:>10,} records in {result.wall:.2f} s; ")
    if result.commits:
        line += (f"{result.commits} commits ({result.commits / result.wall:,.0f}/s, {result.records / result.commits:,.0f} records each, "
                 f"{result.commit_time / result.commits * 1000:.2f} ms per commit_transaction); ")
    else:
        line += f"final flush {result.flush * 1000:.0f} ms; "
    line += (f"broker CPU {m.broker_cpu:.2f} s ({m.broker_cpu / result.records * 1e6:.2f} µs/record), "
             f"driver CPU {m.driver_cpu:.2f} s, other processes {m.other_cores:.2f} cores; load {m.load:.2f}")
    requests = produce_requests(result.stats)
    if requests:
        line += f"; ~{requests:,} Produce requests ({result.records / requests:,.0f} records each)"
    if result.stats:
        wakeups = sum(b.get("wakeups", 0) for b in real_brokers(result.stats[-1]))
        line += f"; {wakeups:,} wake-ups of librdkafka's broker thread"
    latencies = request_latencies(result.stats)
    if latencies:
        line += "; client-side medians of 1 s windows: request rtt p50 {:.1f} ms, p99 {:.1f} ms, queue wait p50 {:.1f} ms, {:.0f} requests in flight".format(*latencies)
    if result.queue_full:
        line += f"; queue full {result.queue_full} times"
    line += f"; warm-up {result.warmup * 1000:.0f} ms; pre-warm {result.prewarm:,.0f} MB/s"
    return line


def real_brokers(snapshot: dict) -> list:
    """The statistics of the broker connections (not the bootstrap or coordinator entries)."""
    return [b for b in snapshot.get("brokers", {}).values() if b.get("nodeid", -1) >= 0]


def produce_requests(stats: list) -> int:
    """Produce requests sent, from librdkafka's last statistics (emitted every second, so up to a
    second old: an approximation)."""
    return sum(b.get("req", {}).get("Produce", 0) for b in real_brokers(stats[-1])) if stats else 0


def request_latencies(stats: list):
    """Medians over the statistics windows of: request round-trip p50 and p99 (ms), p50 of the
    time a record waits in the producer's queue before it is sent (ms), and the requests awaiting
    an answer when the window closed."""
    windows = [b for snapshot in stats for b in real_brokers(snapshot) if b.get("rtt", {}).get("cnt", 0) > 0]
    if not windows:
        return None
    return (median([b["rtt"]["p50"] / 1000 for b in windows]), median([b["rtt"]["p99"] / 1000 for b in windows]),
            median([b["int_latency"]["p50"] / 1000 for b in windows]), median([b["waitresp_cnt"] for b in windows]))


def table(config: Config, rounds: dict) -> list[str]:
    plain = median([r.rate() for r in rounds["plain"]]) if rounds.get("plain") else None
    rows = []
    for variant, results in rounds.items():
        rates = [r.rate() for r in results]
        rate = median(rates)
        commits = f"{median([r.commits / r.wall for r in results]):,.0f}" if variant.startswith("txn") else "—"
        broker_us = median([r.meter.broker_cpu / r.records * 1e6 for r in results])
        rows.append(
            f"| {config} | {variant} | {' · '.join(f'{x:,.0f}' for x in rates)} | **{rate:,.0f}** | "
            f"{rate * config.size / 1e6:.1f} | {commits} | {f'{rate / plain:.3f}' if plain else '—'} | "
            f"{median([r.meter.broker_cpu for r in results]):.2f} | {broker_us:.2f} | "
            f"{median([r.meter.driver_cpu for r in results]):.2f} | {median([r.meter.other_cores for r in results]):.2f} |")
    return rows


TABLE_HEADER = [
    "| Records × partitions | Variant | records/s per round | Median records/s | MB/s | Commits/s | Ratio to plain | "
    "Broker CPU s per round | Broker µs/record | Driver CPU s per round | Other processes, cores |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
]


# --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--brook", type=Path, default=ROOT / ".build-rel" / "release" / "brook", help="brook binary to start")
    p.add_argument("--bootstrap", help="HOST:PORT of a running broker (then none is started)")
    p.add_argument("--rounds", type=int, default=3, help="cycles of all variants per configuration (default 3)")
    p.add_argument("--seconds", type=float, default=4.0, help="minimum length of a round (default 4)")
    p.add_argument("--sizes", default="100,1024", help="record sizes in bytes (default 100,1024)")
    p.add_argument("--partitions", default="1,6", help="partition counts of the topics (default 1,6)")
    p.add_argument("--variants", default="plain,idempotent,txn",
                   help="which variants to run, in this order within each cycle (default plain,idempotent,txn; "
                        "plain1 adds a plain producer with max.in.flight.requests.per.connection=1 after idempotent)")
    p.add_argument("--intervals", default="1,10,100", help="transaction commit intervals in ms (default 1,10,100)")
    p.add_argument("--poll-every", type=int, default=1000, help="poll(0) every this many produce() calls (default 1000)")
    p.add_argument("--prewarm-mb", type=int, default=1536, help="MB written and deleted before every round (default 1536; 0: none)")
    p.add_argument("--check-every", type=int, default=10, help="read the clock every this many produce() calls (default 10)")
    args = p.parse_args(argv)
    args.prefix = f"bench-txn-{os.getpid()}"
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.partitions = [int(x) for x in args.partitions.split(",")]
    kinds = args.variants.split(",")
    if not set(kinds) <= {"plain", "idempotent", "plain1", "txn"}:
        p.error("--variants takes plain, idempotent, plain1 and txn")
    args.variants = [kind for kind in ("plain", "idempotent") if kind in kinds]
    if "plain1" in kinds:
        args.variants.append("plain 1-in-flight")
    if "txn" in kinds:
        args.variants += [f"txn {int(x)} ms" for x in args.intervals.split(",")]
    return args


def run(args, bootstrap: str, broker_pid) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    consumers = {level: make_consumer(bootstrap, level) for level in ("read_uncommitted", "read_committed")}
    rows = []
    try:
        for size in args.sizes:
            for partitions in args.partitions:
                config = Config(size, partitions)
                print(f"\n{config}, {args.rounds} rounds of {', '.join(args.variants)}", flush=True)
                rounds = {variant: [] for variant in args.variants}
                counted = False
                for number in range(1, args.rounds + 1):
                    for variant in args.variants:
                        result, topic = run_round(args, admin, bootstrap, broker_pid, config, variant, number)
                        print(f"  {number} {variant:<17} {describe(result, size)}", flush=True)
                        check_offsets(consumers, topic, partitions, 1 + result.records + result.markers, variant)
                        if variant.startswith("txn") and not counted:
                            read = count_committed(bootstrap, topic, partitions)
                            read -= 1  # the warm-up record
                            if read != result.records:
                                raise BenchError(f"{variant}: a read_committed consumer read {read} records of {topic}, "
                                                 f"the committed transactions hold {result.records}")
                            print(f"    read_committed consumer read all {read:,} committed records of {topic}", flush=True)
                            counted = True
                        delete_topic(admin, topic)
                        rounds[variant].append(result)
                rows += table(config, rounds)
                print("\n".join(TABLE_HEADER + table(config, rounds)), flush=True)
    finally:
        for client in consumers.values():
            client.close()
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs", flush=True)
    broker, rows, failed = None, None, False
    args.scratch = tempfile.gettempdir()
    try:
        if args.bootstrap:
            bootstrap, pid = args.bootstrap, None
        else:
            broker = Broker(args.brook)
            bootstrap, pid = f"{broker.host}:{broker.port}", broker.process.pid
            args.scratch = broker.directory.name
            print(f"started {args.brook} on {bootstrap} (pid {pid})", flush=True)
        rows = run(args, bootstrap, pid)
    except (BenchError, KafkaException) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        failed = True
    finally:
        if broker is not None:
            failed |= not stop_broker(broker)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if rows:
        print("\n" + "\n".join(TABLE_HEADER + rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
