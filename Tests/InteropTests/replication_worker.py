"""A client process for the replication fault tests, runnable inside a network namespace. The
produce, group, committed and transform modes run until SIGTERM and then finish cleanly (exit
status 0). BROOK_WORKER_DEBUG names librdkafka debug contexts (eos,cgrp,msg...) to log.

    replication_worker.py produce BOOTSTRAP TOPIC PARTITIONS ACKED_FILE [PREFIX]
        An idempotent acks=all confluent-kafka producer sending v0, v1, ... (PREFIX0, PREFIX1,
        ... when given) round the partitions until SIGTERM, then flushing; every acknowledged
        record is written to ACKED_FILE as "partition offset value" the moment its
        acknowledgement arrives (offset None when librdkafka does not know it).

    replication_worker.py create BOOTSTRAP TOPIC ASSIGNMENT [KEY=VALUE...]
        Creates TOPIC with its replicas placed by hand: ASSIGNMENT lists each partition's
        replicas, preferred leader first, as "1,2,3/2,3,4/..."; KEY=VALUE are topic configs.

    replication_worker.py consume BOOTSTRAP TOPIC PARTITIONS OUT_FILE TIMEOUT [ISOLATION]
        Reads every partition from offset 0 up to its end (the high watermark, or the last
        stable offset for read_committed) and writes "partition offset value" lines, then
        "watermark partition offset" lines.

    replication_worker.py group BOOTSTRAP TOPIC GROUP COMMITS_FILE
        A consumer in GROUP (subscribed, auto-commit off) that commits synchronously after each
        batch it polls; every commit the coordinator accepted is written to COMMITS_FILE as
        "partition offset time" (the next offset to read; the wall clock) once it returns.

    replication_worker.py committed BOOTSTRAP TOPIC PARTITIONS GROUP READINGS_FILE
        Reads GROUP's committed offsets (OffsetFetch, not a member) every READ_INTERVAL seconds
        and writes each answer as "partition offset time" (-1 for none); on SIGTERM it reads
        once more, retrying until an answer comes, and writes that as "final partition offset".

    replication_worker.py transform BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID LOG_FILE ABORT_EVERY
        Read-process-write with exactly-once: reads INPUT read_committed in GROUP, and per
        polled batch opens a transaction that writes "VALUE@ATTEMPT" to OUTPUT (same partition)
        for each input record and sends the batch's offsets to the transaction. Every
        ABORT_EVERY-th attempt is aborted on purpose (after flushing, so its records are in the
        log); so is one a broker error requires aborting. After an abort the consumer rewinds
        to the batch's start; after an error that leaves the outcome unknown, or a transaction
        that hangs (see `bounded`), the producer is made anew (init_transactions settles the
        open transaction) and the consumer rewinds to the group's committed offsets. LOG_FILE
        gets "committed ATTEMPT partition:next ...", "aborted ATTEMPT VALUE..." and "unknown
        ATTEMPT" lines. A broker error or a hang is printed to the worker's output.
"""
import os
import signal
import sys
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

READ_INTERVAL = 0.2
# The transform mode's timeouts: each transactional call's own, how long a retriable failure is
# retried, and when a whole transaction (or init_transactions) counts as hung.
CALL_TIMEOUT = 10
RETRY_DEADLINE = 15
HUNG_AFTER = 20
DEBUG = {"debug": os.environ["BROOK_WORKER_DEBUG"]} if os.environ.get("BROOK_WORKER_DEBUG") else {}
# A request to a broker that froze or dropped off fails after 10 s rather than librdkafka's 60.
REQUEST_TIMEOUT = {"socket.timeout.ms": 10000, **DEBUG}


def stop_on_sigterm() -> threading.Event:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    return stopping


def produce(bootstrap: str, topic: str, partitions: int, acked_path: str, prefix: str = "v") -> None:
    stopping = stop_on_sigterm()
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "message.timeout.ms": 120000, "linger.ms": 5, "retry.backoff.ms": 100, **DEBUG})
    with open(acked_path, "w", buffering=1) as acked:
        def delivered(error, message):
            if error is None:
                acked.write(f"{message.partition()} {message.offset()} {message.value().decode()}\n")

        sent = 0
        while not stopping.is_set():
            try:
                producer.produce(topic, value=f"{prefix}{sent}".encode(), partition=sent % partitions,
                                 on_delivery=delivered)
                sent += 1
            except BufferError:
                pass
            producer.poll(0.002)
        producer.flush(120)


def create(bootstrap: str, topic: str, assignment: str, *configs: str) -> None:
    replicas = [[int(node) for node in partition.split(",")] for partition in assignment.split("/")]
    settings = dict(config.split("=", 1) for config in configs)
    new = NewTopic(topic, num_partitions=len(replicas), replica_assignment=replicas, config=settings)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([new])[topic].result(60)


def consume(bootstrap: str, topic: str, partitions: int, out_path: str, timeout: float,
            isolation: str = "read_uncommitted") -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "replication-check", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 100, "isolation.level": isolation, "enable.partition.eof": True})
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(partitions)}
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    positions = {p: 0 for p in range(partitions)}
    deadline = time.monotonic() + timeout
    with open(out_path, "w") as out:
        while any(positions[p] < ends[p] for p in ends) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                # The end of a partition: read_committed skips control records and aborted ones.
                if message.error().code() == KafkaError._PARTITION_EOF:
                    positions[message.partition()] = max(positions[message.partition()], message.offset())
                continue
            out.write(f"{message.partition()} {message.offset()} {message.value().decode()}\n")
            positions[message.partition()] = message.offset() + 1
        for p, end in sorted(ends.items()):
            out.write(f"watermark {p} {end}\n")
    consumer.close()


def group(bootstrap: str, topic: str, group_id: str, commits_path: str) -> None:
    stopping = stop_on_sigterm()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100,
                         "session.timeout.ms": 10000, "heartbeat.interval.ms": 500, **REQUEST_TIMEOUT})
    consumer.subscribe([topic])
    with open(commits_path, "w", buffering=1) as commits:
        while not stopping.is_set():
            batch = [m for m in consumer.consume(500, 0.5) if m.error() is None]
            if not batch:
                continue
            try:
                answer = consumer.commit(offsets=next_offsets(topic, batch), asynchronous=False)
            except KafkaException:
                continue  # not committed; the next batch's commit covers these records
            for partition in answer:
                if partition.error is None:
                    commits.write(f"{partition.partition} {partition.offset} {time.time():.3f}\n")
    consumer.close()


def next_offsets(topic: str, batch) -> list[TopicPartition]:
    """The offset after the last record of each partition in `batch`."""
    ends: dict[int, int] = {}
    for message in batch:
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)
    return [TopicPartition(topic, p, offset) for p, offset in sorted(ends.items())]


def committed(bootstrap: str, topic: str, partitions: int, group_id: str, readings_path: str) -> None:
    stopping = stop_on_sigterm()
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False, **REQUEST_TIMEOUT})
    wanted = [TopicPartition(topic, p) for p in range(partitions)]

    def read() -> list[TopicPartition] | None:
        try:
            answer = reader.committed(wanted, timeout=5)
        except KafkaException:
            return None
        return None if any(p.error is not None for p in answer) else answer

    with open(readings_path, "w", buffering=1) as readings:
        while not stopping.wait(READ_INTERVAL):
            for partition in read() or []:
                readings.write(f"{partition.partition} {max(partition.offset, -1)} {time.time():.3f}\n")
        deadline = time.monotonic() + 60
        while (answer := read()) is None and time.monotonic() < deadline:
            time.sleep(READ_INTERVAL)
        for partition in answer or []:
            readings.write(f"final {partition.partition} {max(partition.offset, -1)}\n")
    reader.close()


class Hung(Exception):
    """A client call that has not returned long after its own timeout."""


def bounded(call, seconds: float):
    """`call()` run in a thread of its own; raises Hung when it has not returned after `seconds`.
    librdkafka's transactional calls can wait forever, their timeouts ignored, for a group
    coordinator that dropped out of the metadata (confluentinc/librdkafka#5511 and #5456): a
    fenced broker, which Kafka leaves out of Metadata as Brook does."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001  (handed to the caller)
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise Hung()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def retrying(call):
    """`call()` again while it fails with a retriable error, for RETRY_DEADLINE seconds."""
    deadline = time.monotonic() + RETRY_DEADLINE
    while True:
        try:
            return call()
        except KafkaException as error:
            if not error.args[0].retriable() or time.monotonic() > deadline:
                raise


class Transformer:
    """The transform mode's state: its consumer, its transactional producer, its attempt counter,
    and producers abandoned in a hung call (kept, as destroying them would wait for the call)."""

    def __init__(self, bootstrap: str, source: str, sink: str, group_id: str, transactional_id: str, log):
        self.bootstrap, self.source, self.sink, self.transactional_id, self.log = (
            bootstrap, source, sink, transactional_id, log)
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                                  "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                                  "fetch.wait.max.ms": 100, "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                                  **REQUEST_TIMEOUT})
        self.consumer.subscribe([source])
        self.abandoned: list[Producer] = []
        self.producer = self.new_producer()
        self.attempt = 0

    def new_producer(self) -> Producer:
        """A transactional producer for the id, initialised: its epoch fences every earlier one,
        and the transaction an earlier one left open is settled (aborted, or committed when its
        commit had begun)."""
        while True:
            producer = Producer({"bootstrap.servers": self.bootstrap, "transactional.id": self.transactional_id,
                                 "linger.ms": 5, "transaction.timeout.ms": 60000, **REQUEST_TIMEOUT})
            try:
                bounded(lambda: retrying(lambda: producer.init_transactions(CALL_TIMEOUT)), HUNG_AFTER)
                return producer
            except Hung:
                print("init_transactions hung: another producer", flush=True)
                self.abandoned.append(producer)

    def step(self, abort_every: int) -> None:
        batch = [m for m in self.consumer.consume(500, 0.5) if m.error() is None]
        if not batch:
            return
        self.attempt += 1
        values = [f"{m.value().decode()}@{self.attempt}" for m in batch]
        producer, attempt, abort = self.producer, self.attempt, self.attempt % abort_every == 0
        try:
            outcome = bounded(lambda: self.transaction(producer, attempt, batch, values, abort), HUNG_AFTER)
        except Hung:
            print(f"transaction {self.attempt} hung: another producer", flush=True)
            self.abandoned.append(self.producer)
            outcome = "unknown"
        if outcome == "committed":
            ends = " ".join(f"{p.partition}:{p.offset}" for p in next_offsets(self.source, batch))
            self.log.write(f"committed {self.attempt} {ends}\n")
        elif outcome == "aborted":
            self.log.write(f"aborted {self.attempt} {' '.join(values)}\n")
            self.rewind({m.partition(): m.offset() for m in reversed(batch)})
        else:
            self.log.write(f"unknown {self.attempt}\n")
            self.producer = self.new_producer()
            self.rewind(self.committed_offsets())

    def transaction(self, producer: Producer, attempt: int, batch, values: list[str], abort: bool) -> str:
        """One transaction over `batch`: "committed", "aborted", or "unknown" when neither is sure.
        It uses `producer` only: when it hangs, `self.producer` is replaced under it."""
        try:
            producer.begin_transaction()
            for message, value in zip(batch, values):
                producer.produce(self.sink, value=value.encode(), partition=message.partition())
            retrying(lambda: producer.send_offsets_to_transaction(
                next_offsets(self.source, batch), self.consumer.consumer_group_metadata(), CALL_TIMEOUT))
            if abort:
                producer.flush(CALL_TIMEOUT)
                retrying(lambda: producer.abort_transaction(CALL_TIMEOUT))
                return "aborted"
            retrying(lambda: producer.commit_transaction(CALL_TIMEOUT))
            return "committed"
        except KafkaException as error:
            print(f"transaction {attempt}: {error}", flush=True)
            if error.args[0].txn_requires_abort():
                try:
                    retrying(lambda: producer.abort_transaction(CALL_TIMEOUT))
                    return "aborted"
                except KafkaException as abort_error:
                    print(f"transaction {attempt}: abort: {abort_error}", flush=True)
            return "unknown"

    def committed_offsets(self) -> dict[int, int] | None:
        """The group's committed offsets for the assigned partitions; None when they cannot be read."""
        assignment = self.consumer.assignment()
        try:
            found = retrying(lambda: self.consumer.committed(assignment, timeout=CALL_TIMEOUT)) if assignment else []
        except KafkaException as error:
            print(f"committed offsets: {error}", flush=True)
            return None
        return {p.partition: p.offset if p.offset >= 0 else OFFSET_BEGINNING for p in found}

    def rewind(self, starts: dict[int, int] | None) -> None:
        """Seeks the assigned partitions to `starts`; when that fails (or `starts` is None) the
        consumer leaves and rejoins the group, so each partition starts again from its
        committed offset, as a partition not assigned now will anyway."""
        assigned = {p.partition for p in self.consumer.assignment()}
        try:
            if starts is None:
                raise KafkaException(KafkaError(KafkaError._STATE))
            for partition, offset in starts.items():
                if partition in assigned:
                    self.consumer.seek(TopicPartition(self.source, partition, offset))
        except KafkaException as error:
            print(f"rewind: {error}: rejoining", flush=True)
            self.consumer.unsubscribe()
            self.consumer.subscribe([self.source])

    def close(self) -> None:
        self.producer.flush(CALL_TIMEOUT)
        self.consumer.close()


def transform(bootstrap: str, source: str, sink: str, group_id: str, transactional_id: str, log_path: str,
              abort_every: int) -> None:
    stopping = stop_on_sigterm()
    with open(log_path, "w", buffering=1) as log:
        transformer = Transformer(bootstrap, source, sink, group_id, transactional_id, log)
        while not stopping.is_set():
            transformer.step(abort_every)
        transformer.close()
    if transformer.abandoned:
        # Destroying a producer stuck in a call would wait for the call: exit without.
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    mode, arguments = sys.argv[1], sys.argv[2:]
    if mode == "produce":
        produce(arguments[0], arguments[1], int(arguments[2]), arguments[3], *arguments[4:])
    elif mode == "create":
        create(*arguments)
    elif mode == "consume":
        consume(arguments[0], arguments[1], int(arguments[2]), arguments[3], float(arguments[4]), *arguments[5:])
    elif mode == "group":
        group(*arguments)
    elif mode == "committed":
        committed(arguments[0], arguments[1], int(arguments[2]), arguments[3], arguments[4])
    elif mode == "transform":
        transform(*arguments[:6], int(arguments[6]))
    else:
        raise SystemExit(f"unknown mode {mode}")
