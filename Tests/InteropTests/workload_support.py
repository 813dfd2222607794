"""Consumer-group and transactional workloads for the replication fault tests, with their checkers.
Each workload is replication_worker.py processes (see there), runnable in a network namespace,
reading the topic the acks=all producer of replication_support writes.

GroupWorkload: a member of a group commits synchronously after each batch it polls and records
each commit the coordinator accepted; another process reads the group's committed offsets
every READ_INTERVAL seconds. `check_group_offsets`: neither the accepted commits nor the offsets
read back ever go backward in a partition, and once the faults have healed the committed offset
is at least the last one accepted. (Under a network partition Kafka promises a little less: a
deposed coordinator cut off from the controller still answers OffsetFetch from its memory, so a
reader sent to it after the new coordinator took commits would see an older offset. A failure
there needs the reader's log, BROOK_WORKER_DEBUG=cgrp, to tell which coordinator answered.)

TransformWorkload: read-process-write in transactions (read_committed input, output records
and input offsets committed together with send_offsets_to_transaction), every seventh
transaction aborted on purpose, plus a reader of its group's committed offsets.
`check_exactly_once`: a read_committed reader of the output sees no record of an aborted
transaction, and each input record exactly once; the aborted records are in the log (a
read_uncommitted reader sees them), so the first check is not vacuous.

Workloads runs all three with the producer and checks everything once they stop."""
import os
from collections import Counter

from conftest import wait_until
from replication_support import ProducerWorker, Worker, check_history, consume_everything, line_count


def lines_of(path: str) -> list[str]:
    """The lines a worker has written to `path` so far (none before it has opened it)."""
    try:
        with open(path) as lines:
            return [line for line in lines if line.strip()]
    except FileNotFoundError:
        return []


class OffsetReader:
    """The `committed` worker: a group's committed offsets, read every READ_INTERVAL seconds."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, group: str, directory: str,
                 namespace: str | None = None):
        self.path = os.path.join(directory, f"committed-{group}.txt")
        self.worker = Worker("committed", bootstrap, topic, partitions, group, self.path,
                             log_path=os.path.join(directory, f"committed-{group}.log"), namespace=namespace)

    def readings(self) -> tuple[dict[int, list[int]], dict[int, int]]:
        """Every offset read, by partition in reading order, and the final reading."""
        read: dict[int, list[int]] = {}
        final: dict[int, int] = {}
        for line in lines_of(self.path):
            fields = line.split()
            if fields[0] == "final":
                final[int(fields[1])] = int(fields[2])
            else:
                read.setdefault(int(fields[0]), []).append(int(fields[1]))
        return read, final

    def latest(self) -> dict[int, int]:
        """The last offset read for each partition, so far."""
        return {partition: offsets[-1] for partition, offsets in self.readings()[0].items() if offsets}


class GroupWorkload:
    """A group member committing after each batch, and a reader of the group's committed offsets."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, directory: str, namespace: str | None = None,
                 group: str = "committer"):
        self.group = group
        self.commits_path = os.path.join(directory, f"commits-{group}.txt")
        self.member = Worker("group", bootstrap, topic, group, self.commits_path,
                             log_path=os.path.join(directory, f"group-{group}.log"), namespace=namespace)
        self.reader = OffsetReader(bootstrap, topic, partitions, group, directory, namespace)

    def commit_count(self) -> int:
        return line_count(self.commits_path)

    def stop(self) -> tuple[list[tuple[int, int]], dict[int, list[int]], dict[int, int]]:
        """Stops the member, then the reader (whose final reading follows the member's last
        commit); returns the accepted commits, the offsets read and the final reading."""
        try:
            self.member.stop()
        finally:
            self.reader.worker.stop()
        commits = [(int(p), int(o)) for p, o, _ in (line.split() for line in lines_of(self.commits_path))]
        return commits, *self.reader.readings()

    def kill(self) -> None:
        self.member.kill()
        self.reader.worker.kill()


def first_decrease(offsets: list[int]) -> tuple[int, int, int] | None:
    """(index, offset, the smaller one after it) where `offsets` first goes backward."""
    for index in range(1, len(offsets)):
        if offsets[index] < offsets[index - 1]:
            return index, offsets[index - 1], offsets[index]
    return None


def check_group_offsets(commits: list[tuple[int, int]], readings: dict[int, list[int]], final: dict[int, int],
                        name: str = "the group") -> None:
    """Committed offsets never go backward, in what the member had accepted or what was read back,
    and the final committed offset is at least the last accepted commit."""
    accepted: dict[int, list[int]] = {}
    for partition, offset in commits:
        accepted.setdefault(partition, []).append(offset)
    for partition, offsets in sorted(accepted.items()):
        back = first_decrease(offsets)
        assert back is None, f"{name}: commit {back[0]} of partition {partition} went from {back[1]} back to {back[2]}"
    for partition, offsets in sorted(readings.items()):
        back = first_decrease(offsets)
        assert back is None, \
            f"{name}: committed offset of partition {partition} read as {back[1]}, then as {back[2]} (reading {back[0]})"
    for partition, offsets in sorted(accepted.items()):
        assert final.get(partition, -1) >= offsets[-1], \
            f"{name}: partition {partition}'s commit of {offsets[-1]} was accepted, yet {final.get(partition)} is committed"


class TransformWorkload:
    """The transactional read-process-write worker and a reader of its group's committed offsets."""

    def __init__(self, bootstrap: str, source: str, sink: str, partitions: int, directory: str,
                 namespace: str | None = None, group: str = "transformer", abort_every: int = 7):
        self.group = group
        self.log_path = os.path.join(directory, f"transactions-{group}.txt")
        self.worker = Worker("transform", bootstrap, source, sink, group, f"{group}-txn", self.log_path, abort_every,
                             log_path=os.path.join(directory, f"transform-{group}.log"), namespace=namespace)
        self.reader = OffsetReader(bootstrap, source, partitions, group, directory, namespace)

    def outcomes(self) -> Counter:
        """How many transactions were committed, aborted, or ended unknown, so far."""
        return Counter(line.split(maxsplit=1)[0] for line in lines_of(self.log_path))

    def wait_until_caught_up(self, ends: dict[int, int], timeout: float = 90) -> None:
        """Until the group's committed offsets reach `ends` (the input's high watermarks)."""
        wait_until(lambda: all(self.reader.latest().get(p, -1) >= end for p, end in ends.items() if end > 0),
                   timeout=timeout, interval=0.2, message=f"the transformer committing up to {ends}")

    def stop(self) -> tuple[set[str], dict[int, list[int]], dict[int, int]]:
        """Stops both; returns the values of every aborted transaction's records, the offsets read
        and the final reading."""
        try:
            self.worker.stop()
        finally:
            self.reader.worker.stop()
        aborted = {value for line in lines_of(self.log_path) if line.startswith("aborted ") for value in line.split()[2:]}
        return aborted, *self.reader.readings()

    def kill(self) -> None:
        self.worker.kill()
        self.reader.worker.kill()


def check_exactly_once(inputs: list[str], committed: list[str], uncommitted: list[str], aborted: set[str]) -> None:
    """The read_committed output holds no aborted record and each input record exactly once (as
    "VALUE@ATTEMPT"); the read_uncommitted output holds aborted records, so aborts were tested."""
    seen_aborted = [value for value in committed if value in aborted]
    assert not seen_aborted, f"read_committed saw {len(seen_aborted)} aborted records, e.g. {seen_aborted[:10]}"
    sources = Counter(value.rsplit("@", 1)[0] for value in committed)
    twice = sorted(source for source, count in sources.items() if count > 1)
    assert not twice, f"{len(twice)} input records written twice, e.g. " + str(
        [[v for v in committed if v.startswith(f"{source}@")] for source in twice[:5]])
    missing = sorted(set(inputs) - set(sources))
    assert not missing, f"{len(missing)} of {len(inputs)} input records never written, e.g. {missing[:10]}"
    foreign = sorted(set(sources) - set(inputs))
    assert not foreign, f"{len(foreign)} output records from no input record, e.g. {foreign[:10]}"
    assert aborted and any(value in aborted for value in uncommitted), "no aborted record reached the output's log"


class Workloads:
    """The acks=all producer writing `topic`, a GroupWorkload reading it, and a TransformWorkload
    turning it into `output`, all in `namespace` when given."""

    def __init__(self, bootstrap: str, topic: str, output: str, partitions: int, directory: str,
                 namespace: str | None = None, committing_group: str = "committer", transform_group: str = "transformer"):
        self.bootstrap, self.topic, self.output, self.partitions, self.directory, self.namespace = (
            bootstrap, topic, output, partitions, directory, namespace)
        self.producer = ProducerWorker(bootstrap, topic, partitions, directory, namespace)
        self.group = GroupWorkload(bootstrap, topic, partitions, directory, namespace, group=committing_group)
        self.transform = TransformWorkload(bootstrap, topic, output, partitions, directory, namespace, group=transform_group)

    def progress(self, timeout: float = 90, transactions: bool = True) -> None:
        """Until the workloads have got on: more acknowledgements and accepted commits, and more
        committed transactions unless `transactions` is False."""
        acked, commits, committed = (self.producer.acked_count(), self.group.commit_count(),
                                     self.transform.outcomes()["committed"])
        wait_until(lambda: self.producer.acked_count() >= acked + 200, timeout=timeout, interval=0.2,
                   message="200 more acknowledgements")
        wait_until(lambda: self.group.commit_count() >= commits + 3, timeout=timeout, interval=0.2,
                   message="3 more accepted commits")
        if transactions:
            wait_until(lambda: self.transform.outcomes()["committed"] >= committed + 3, timeout=timeout, interval=0.2,
                       message="3 more committed transactions")

    def stop_and_check(self, *producers: ProducerWorker) -> dict[str, dict[int, int]]:
        """Stops every workload, and `producers` writing the same topic, once the transformer has
        caught up with the last record, and runs every checker (a failure names all that failed);
        returns the high watermarks of both topics."""
        acked = [record for producer in (self.producer, *producers) for record in producer.stop()]
        consumed, watermarks = self.consume(self.topic)
        self.transform.wait_until_caught_up(watermarks)
        aborted, transform_readings, transform_final = self.transform.stop()
        commits, readings, final = self.group.stop()

        committed_output, _ = self.consume(self.output, isolation="read_committed")
        whole_output, output_watermarks = self.consume(self.output)
        failures = []
        for check in (lambda: check_history(acked, consumed, watermarks),
                      lambda: check_group_offsets(commits, readings, final, name=self.group.group),
                      lambda: check_group_offsets([], transform_readings, transform_final, name=self.transform.group),
                      lambda: check_exactly_once([v for _, _, v in consumed], [v for _, _, v in committed_output],
                                                 [v for _, _, v in whole_output], aborted)):
            try:
                check()
            except AssertionError as failure:
                failures.append(str(failure).split("\n")[0])
        assert not failures, " | ".join(failures)
        return {self.topic: watermarks, self.output: output_watermarks}

    def consume(self, topic: str, isolation: str = "read_uncommitted"):
        return consume_everything(self.bootstrap, topic, self.partitions, self.directory, self.namespace,
                                  isolation=isolation)

    def kill(self) -> None:
        self.producer.worker.kill()
        self.group.kill()
        self.transform.kill()
