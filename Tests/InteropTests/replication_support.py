"""The replication fault tests' workload and checker (a Jepsen-style history check).

A producer process (replication_worker.py, in any network namespace; `Worker` runs any of its
modes) records every record whose acks=all acknowledgement arrived, with the partition and
offset the leader gave it. After the faults heal, a consumer process reads every partition to
its high watermark, and the checker asserts: no acknowledged record is lost, and each sits at
the offset it was acknowledged at; no record appears twice; offsets only grow. Once the brokers
are stopped, every replica's log is dumped (`brook dump-log`) and the replicas of a partition
must hold the same batches, at the same offsets with the same CRCs, up to the high watermark.
The group and transactional workloads and their checkers are in workload_support."""
import glob
import os
import re
import shutil
import signal
from collections import Counter
import subprocess
import sys
from pathlib import Path

from cli_support import brook, succeeded

WORKER = str(Path(__file__).with_name("replication_worker.py"))
# librdkafka reports a record delivered without its offset when its request timed out and a later
# request of the same partition succeeded: the idempotent sequence proves it was written.
UNKNOWN_OFFSET = -1
BATCH = re.compile(r"^baseOffset: (\d+) lastOffset: (\d+) count: (\d+).* crc: (\d+)", re.M)


def keep_evidence(directory: str, outputs: dict[int, list[str]]) -> None:
    """For a failure's report: when BROOK_EVIDENCE names a directory, the workers' files (acked
    records, commits, offsets read, transactions, client logs) and each broker's output
    (broker-N.log) are copied there before the test's temporary directory goes."""
    target = os.environ.get("BROOK_EVIDENCE")
    if not target:
        return
    shutil.copytree(directory, target, dirs_exist_ok=True)
    for node, lines in outputs.items():
        with open(os.path.join(target, f"broker-{node}.log"), "w") as log:
            log.write("".join(lines))


def in_namespace(namespace: str | None, args: list[str]) -> list[str]:
    return ["ip", "netns", "exec", namespace, *args] if namespace else args


class Worker:
    """One replication_worker.py process running `mode` (in `namespace` when given) until `stop()`;
    its output goes to `log_path`, shown when it fails."""

    def __init__(self, mode: str, *args, log_path: str, namespace: str | None = None):
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen(in_namespace(namespace, [sys.executable, WORKER, mode, *map(str, args)]),
                                            stdout=log, stderr=subprocess.STDOUT)

    def stop(self, timeout: float = 150) -> None:
        """SIGTERM, and waits for a clean exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        finally:
            self.kill()
        assert self.process.returncode == 0, f"{self.log_path}: {self.output()}"

    def kill(self) -> None:
        """SIGKILL, for the clean-up after a failure."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        with open(self.log_path, errors="replace") as log:
            return log.read()[-4000:]


def line_count(path: str) -> int:
    try:
        with open(path) as lines:
            return sum(1 for _ in lines)
    except FileNotFoundError:
        return 0


class ProducerWorker:
    """The acks=all producer, running until `stop()`; a second one on a topic takes a `name`,
    which prefixes its values and names its files."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, directory: str, namespace: str | None = None,
                 name: str = "v"):
        suffix = "" if name == "v" else f"-{name}"
        self.acked_path = os.path.join(directory, f"acked-{topic}{suffix}.txt")
        self.worker = Worker("produce", bootstrap, topic, partitions, self.acked_path, name,
                             log_path=os.path.join(directory, f"producer-{topic}{suffix}.log"), namespace=namespace)

    def acked_count(self) -> int:
        return line_count(self.acked_path)

    def stop(self, timeout: float = 150) -> list[tuple[int, int, str]]:
        """Stops producing, waits for the last acknowledgements; returns every acknowledged record."""
        self.worker.stop(timeout)
        with open(self.acked_path) as acked:
            return [(int(p), UNKNOWN_OFFSET if o == "None" else int(o), v)
                    for p, o, v in (line.split() for line in acked if line.strip())]


def consume_everything(bootstrap: str, topic: str, partitions: int, directory: str,
                       namespace: str | None = None, timeout: float = 90, isolation: str = "read_uncommitted"):
    """Every record of `topic` up to each partition's high watermark (last stable offset for
    read_committed), and the high watermarks."""
    out_path = os.path.join(directory, f"consumed-{topic}-{isolation}.txt")
    subprocess.run(in_namespace(namespace, [sys.executable, WORKER, "consume", bootstrap, topic, str(partitions), out_path,
                                            str(timeout), isolation]), check=True, timeout=timeout + 60)
    records, watermarks = [], {}
    with open(out_path) as consumed:
        for line in consumed:
            fields = line.split()
            if fields[0] == "watermark":
                watermarks[int(fields[1])] = int(fields[2])
            else:
                records.append((int(fields[0]), int(fields[1]), fields[2]))
    return records, watermarks


def check_history(acked: list[tuple[int, int, str]], consumed: list[tuple[int, int, str]],
                  watermarks: dict[int, int]) -> None:
    """No acknowledged record lost or moved, none duplicated, every partition read whole. A
    record acknowledged without an offset (UNKNOWN_OFFSET) must be in its partition somewhere."""
    duplicates = {value for value, count in Counter(value for _, _, value in consumed).items() if count > 1}
    assert not duplicates, f"records consumed twice: {sorted(duplicates)[:20]}"
    at = {(partition, offset): value for partition, offset, value in consumed}
    for partition in watermarks:
        offsets = [offset for p, offset, _ in consumed if p == partition]
        assert offsets == sorted(offsets), f"partition {partition}'s offsets go backward"
        assert not offsets or offsets[-1] < watermarks[partition]
    anywhere = {(partition, value) for partition, _, value in consumed}

    def missing(partition: int, offset: int, value: str) -> bool:
        return (partition, value) not in anywhere if offset == UNKNOWN_OFFSET else at.get((partition, offset)) != value

    lost = [(p, o, v) for p, o, v in acked if missing(p, o, v)]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged records lost or moved, e.g. {lost[:10]}"


def replica_batches(data_dir: str, topic: str, partition: int, below: int) -> list[tuple[int, int, int, int]]:
    """(base offset, last offset, count, crc) of the batches of one replica's log below `below`."""
    batches = []
    for segment in sorted(glob.glob(os.path.join(data_dir, f"{topic}-{partition}", "*.log"))):
        dumped = succeeded(brook("dump-log", "--files", segment))
        for base, last, count, crc in BATCH.findall(dumped):
            if int(last) < below:
                batches.append((int(base), int(last), int(count), int(crc)))
    return batches


def check_replicas_agree(data_dirs: dict[int, str], topic: str, watermarks: dict[int, int],
                         replicas: dict[int, list[int]] | None = None) -> None:
    """Every replica of every partition holds the same batches up to the high watermark; the
    replicas of a partition are every node, or those `replicas` names for it."""
    for partition, watermark in watermarks.items():
        holders = (replicas or {}).get(partition, data_dirs)
        logs = {node: replica_batches(data_dirs[node], topic, partition, watermark) for node in holders}
        reference = next(iter(logs.values()))
        assert reference and reference[-1][1] == watermark - 1, \
            f"partition {partition} does not reach its high watermark {watermark}: {reference[-3:]}"
        for node, batches in logs.items():
            assert batches == reference, f"node {node}'s replica of {topic}-{partition} differs below {watermark}"
