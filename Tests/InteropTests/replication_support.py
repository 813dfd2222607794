"""The replication fault tests' workload and checker (a Jepsen-style history check).

A producer process (replication_worker.py, in any network namespace) records every record whose
acks=all acknowledgement arrived, with the partition and offset the leader gave it. After the
faults heal, a consumer process reads every partition to its high watermark, and the checker
asserts: no acknowledged record is lost, and each sits at the offset it was acknowledged at;
no record appears twice; offsets only grow. Once the brokers are stopped, every replica's log
is dumped (`brook dump-log`) and the replicas of a partition must hold the same batches, at
the same offsets with the same CRCs, up to the high watermark."""
import glob
import os
import re
import signal
from collections import Counter
import subprocess
import sys
from pathlib import Path

from cli_support import brook, succeeded

WORKER = str(Path(__file__).with_name("replication_worker.py"))
BATCH = re.compile(r"^baseOffset: (\d+) lastOffset: (\d+) count: (\d+).* crc: (\d+)", re.M)


def in_namespace(namespace: str | None, args: list[str]) -> list[str]:
    return ["ip", "netns", "exec", namespace, *args] if namespace else args


class ProducerWorker:
    """The acks=all producer, running until `stop()`."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, directory: str, namespace: str | None = None):
        self.acked_path = os.path.join(directory, f"acked-{topic}.txt")
        self.process = subprocess.Popen(
            in_namespace(namespace, [sys.executable, WORKER, "produce", bootstrap, topic, str(partitions), self.acked_path]),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def acked_count(self) -> int:
        try:
            with open(self.acked_path) as acked:
                return sum(1 for _ in acked)
        except FileNotFoundError:
            return 0

    def stop(self, timeout: float = 150) -> list[tuple[int, int, str]]:
        """Stops producing, waits for the last acknowledgements; returns every acknowledged record."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, output[-4000:]
        with open(self.acked_path) as acked:
            return [(int(p), int(o), v) for p, o, v in (line.split() for line in acked if line.strip())]


def consume_everything(bootstrap: str, topic: str, partitions: int, directory: str,
                       namespace: str | None = None, timeout: float = 90):
    """Every record of `topic` up to each partition's high watermark, and the watermarks."""
    out_path = os.path.join(directory, f"consumed-{topic}.txt")
    subprocess.run(in_namespace(namespace, [sys.executable, WORKER, "consume", bootstrap, topic, str(partitions), out_path,
                                            str(timeout)]), check=True, timeout=timeout + 60)
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
    """No acknowledged record lost or moved, none duplicated, every partition read whole."""
    duplicates = {value for value, count in Counter(value for _, _, value in consumed).items() if count > 1}
    assert not duplicates, f"records consumed twice: {sorted(duplicates)[:20]}"
    at = {(partition, offset): value for partition, offset, value in consumed}
    for partition in watermarks:
        offsets = [offset for p, offset, _ in consumed if p == partition]
        assert offsets == sorted(offsets), f"partition {partition}'s offsets go backward"
        assert not offsets or offsets[-1] < watermarks[partition]
    lost = [(p, o, v) for p, o, v in acked if at.get((p, o)) != v]
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


def check_replicas_agree(data_dirs: dict[int, str], topic: str, watermarks: dict[int, int]) -> None:
    """Every replica of every partition holds the same batches up to the high watermark."""
    for partition, watermark in watermarks.items():
        logs = {node: replica_batches(directory, topic, partition, watermark) for node, directory in data_dirs.items()}
        reference = next(iter(logs.values()))
        assert reference and reference[-1][1] == watermark - 1, \
            f"partition {partition} does not reach its high watermark {watermark}: {reference[-3:]}"
        for node, batches in logs.items():
            assert batches == reference, f"node {node}'s replica of {topic}-{partition} differs below {watermark}"
