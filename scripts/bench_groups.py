#!/usr/bin/env python3
"""Consumer-group scale benchmark for Brook's group coordinator (issue 5, item 7).

Speaks the classic group protocol over raw sockets (asyncio, one small hand-written codec for
the flexible versions modern clients send: JoinGroup v9, SyncGroup v5, Heartbeat v4,
LeaveGroup v5, OffsetCommit v9, FindCoordinator v4, ApiVersions v3) and measures:

  1. formation: --groups groups of --members members each join at once (JoinGroup with the
     KIP-394 MEMBER_ID_REQUIRED round trip, then SyncGroup with the leader's range assignment)
     until every member has its SyncGroup answer in its group's final generation; then one
     OffsetCommit per member (its --partitions-per-member partitions), all at once;
  2. rebalance: one group of --rebalance-members members; the time from a new member's first
     JoinGroup, and from one member's LeaveGroup, until every member has its SyncGroup answer in
     the new generation (the others learn of the rebalance from Heartbeat REBALANCE_IN_PROGRESS);
  3. throughput: OffsetCommit (and Heartbeat) requests pipelined over --connections
     connections, --window requests in flight on each.

Every measurement is paired with a reference taken in the same run: the same number of
ApiVersions round trips on the same connections in the same pattern, i.e. the plain cost of a
request on loopback. Broker and driver CPU seconds are reported for each (and the cores other
processes used meanwhile, from /proc/stat), so a reader can see which side was the bottleneck.
The committed offsets of a sample of part-1 groups are read back (OffsetFetch, through
confluent-kafka's AdminClient) and must match.

Members heartbeat every --heartbeat-ms while their group forms or rebalances, which bounds how
late they learn of a rebalance. In part 1 they stop heartbeating once their group is Stable
(the 300 s session timeout keeps them members) so that parts 1 and 3 are not measured under
the background load of thousands of heartbeats.

Run from the repository root after
`swift build -c release --product brook --scratch-path .build-rel`:

    python3 scripts/bench_groups.py                       # starts .build-rel/release/brook itself
    python3 scripts/bench_groups.py --brook PATH          # another brook binary
    python3 scripts/bench_groups.py --bootstrap HOST:PORT # a running broker (give it
                                                          # group.initial.rebalance.delay.ms=0)
    python3 scripts/bench_groups.py --groups 100 --requests 5000   # a quick run

Exits with status 1 if any request gets an error code other than the ones the protocol flow
expects (MEMBER_ID_REQUIRED on a first JoinGroup, REBALANCE_IN_PROGRESS on SyncGroup/Heartbeat
while a group rebalances), if a group does not settle within --timeout seconds, or if the broker
it started dies or does not stop cleanly.
"""
import argparse
import asyncio
import collections
import os
import re
import resource
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = b"bench-groups"

# (api key, version) of every request the benchmark sends.
OFFSET_COMMIT = (8, 9)
FIND_COORDINATOR = (10, 4)
JOIN_GROUP = (11, 9)
HEARTBEAT = (12, 4)
LEAVE_GROUP = (13, 5)
SYNC_GROUP = (14, 5)
API_VERSIONS = (18, 3)

NONE = 0
REBALANCE_IN_PROGRESS = 27
MEMBER_ID_REQUIRED = 79

SESSION_TIMEOUT_MS = 300_000
REBALANCE_TIMEOUT_MS = 60_000


class BenchError(Exception):
    """A request got an unexpected answer: the run is invalid."""


def error_name(code: int) -> str:
    try:
        from kafka.errors import for_code
        return f"{code} {for_code(code).__name__}"
    except Exception:  # kafka-python missing or code unknown to it
        return str(code)


def check(code: int, what: str, allowed=(NONE,)) -> int:
    if code not in allowed:
        raise BenchError(f"{what}: error {error_name(code)}")
    return code


# --------------------------------------------------------------------------------------------
# Wire format: KIP-482 flexible versions (compact strings/arrays, tagged fields).


class Writer:
    def __init__(self):
        self.out = bytearray()

    def int8(self, v): self.out += struct.pack(">b", v); return self
    def int16(self, v): self.out += struct.pack(">h", v); return self
    def int32(self, v): self.out += struct.pack(">i", v); return self
    def int64(self, v): self.out += struct.pack(">q", v); return self

    def uvarint(self, v):
        while v >= 0x80:
            self.out.append((v & 0x7F) | 0x80)
            v >>= 7
        self.out.append(v)
        return self

    def string(self, s):
        """Compact (nullable) string."""
        if s is None:
            return self.uvarint(0)
        data = s.encode()
        return self.uvarint(len(data) + 1).raw(data)

    def bytes(self, data):
        return self.uvarint(len(data) + 1).raw(data)

    def array(self, items, encode_item):
        self.uvarint(len(items) + 1)
        for item in items:
            encode_item(self, item)
        return self

    def tags(self):
        return self.uvarint(0)

    def raw(self, data):
        self.out += data
        return self


class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.data, self.pos = data, pos

    def _unpack(self, fmt, size):
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def int8(self): return self._unpack(">b", 1)
    def int16(self): return self._unpack(">h", 2)
    def int32(self): return self._unpack(">i", 4)
    def int64(self): return self._unpack(">q", 8)

    def uvarint(self):
        value = shift = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def bytes(self):
        size = self.uvarint() - 1
        if size < 0:
            return None
        value = bytes(self.data[self.pos:self.pos + size])
        self.pos += size
        return value

    def string(self):
        value = self.bytes()
        return None if value is None else value.decode()

    def array(self, read_item):
        count = self.uvarint() - 1
        return [] if count < 0 else [read_item(self) for _ in range(count)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()


def classic_string(s: str) -> bytes:
    data = s.encode()
    return struct.pack(">h", len(data)) + data


# ConsumerProtocolSubscription / ConsumerProtocolAssignment v0 (classic, non-flexible encoding).

def subscription(topics: list[str]) -> bytes:
    return struct.pack(">hi", 0, len(topics)) + b"".join(map(classic_string, topics)) + struct.pack(">i", -1)


def assignment(topic: str, partitions: list[int]) -> bytes:
    return (struct.pack(">hi", 0, 1) + classic_string(topic) + struct.pack(">i", len(partitions))
            + b"".join(struct.pack(">i", p) for p in partitions) + struct.pack(">i", -1))


def assigned_partitions(data: bytes) -> list[int]:
    if not data:
        return []
    _, topics = struct.unpack_from(">hi", data, 0)
    pos, partitions = 6, []
    for _ in range(topics):
        pos += 2 + struct.unpack_from(">h", data, pos)[0]
        count = struct.unpack_from(">i", data, pos)[0]
        partitions += struct.unpack_from(f">{count}i", data, pos + 4)
        pos += 4 + 4 * count
    return partitions


# Request bodies and answer parsers, one pair per API.

def api_versions_request() -> bytes:
    return Writer().string("bench-groups").string("1.0").tags().out


API_VERSIONS_BODY = bytes(api_versions_request())


def parse_api_versions(r: Reader):
    error = r.int16()
    versions = {}
    for key, low, high in r.array(lambda r: (r.int16(), r.int16(), r.int16(), r.tags())[:3]):
        versions[key] = (low, high)
    return error, versions


def parse_api_versions_error(r: Reader) -> int:
    """Only the error code: the reference must cost the driver as little as the requests it is
    compared with."""
    return r.int16()


def find_coordinator_request(group: str) -> bytes:
    return Writer().int8(0).array([group], Writer.string).tags().out


def parse_find_coordinator(r: Reader):
    r.int32()
    return r.array(lambda r: (r.string(), r.int32(), r.string(), r.int32(), r.int16(), r.string(), r.tags())[:5])


def join_group_request(group: str, member_id: str, metadata: bytes) -> bytes:
    w = Writer().string(group).int32(SESSION_TIMEOUT_MS).int32(REBALANCE_TIMEOUT_MS)
    w.string(member_id).string(None).string("consumer")
    w.array([("range", metadata)], lambda w, p: w.string(p[0]).bytes(p[1]).tags())
    return w.string(None).tags().out


@dataclass
class JoinAnswer:
    error: int
    generation: int
    protocol_name: str
    leader: str
    member_id: str
    members: list  # (member id, metadata); only the leader gets them


def parse_join_group(r: Reader) -> JoinAnswer:
    r.int32()
    error, generation = r.int16(), r.int32()
    r.string()  # protocol type
    protocol_name, leader = r.string(), r.string()
    r.int8()  # skip assignment
    member_id = r.string()
    members = r.array(lambda r: (r.string(), r.string(), r.bytes(), r.tags())[::2])
    r.tags()
    return JoinAnswer(error, generation, protocol_name, leader, member_id, members)


def sync_group_request(group, generation, member_id, protocol_name, assignments) -> bytes:
    w = Writer().string(group).int32(generation).string(member_id).string(None)
    w.string("consumer").string(protocol_name)
    return w.array(assignments, lambda w, a: w.string(a[0]).bytes(a[1]).tags()).tags().out


def parse_sync_group(r: Reader):
    r.int32()
    error = r.int16()
    r.string(), r.string()
    return error, r.bytes()


def heartbeat_request(group, generation, member_id) -> bytes:
    return Writer().string(group).int32(generation).string(member_id).string(None).tags().out


def parse_error_after_throttle(r: Reader) -> int:
    r.int32()
    return r.int16()


def leave_group_request(group, member_ids) -> bytes:
    w = Writer().string(group)
    return w.array(member_ids, lambda w, m: w.string(m).string(None).string("benchmark").tags()).tags().out


def parse_leave_group(r: Reader):
    r.int32()
    error = r.int16()
    members = r.array(lambda r: (r.string(), r.string(), r.int16(), r.tags())[::2])
    return error, members


def offset_commit_request(group, generation, member_id, topic, offsets) -> bytes:
    w = Writer().string(group).int32(generation).string(member_id).string(None)

    def partition(w, po):
        w.int32(po[0]).int64(po[1]).int32(-1).string("").tags()

    return w.array([topic], lambda w, t: w.string(t).array(offsets, partition).tags()).tags().out


def parse_offset_commit(r: Reader):
    """The error codes of every partition in the answer."""
    r.int32()
    codes = []
    for partitions in r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16(), r.tags())[1]), r.tags())[1]):
        codes += partitions
    return codes


# --------------------------------------------------------------------------------------------
# Connections


class Connection:
    """One TCP connection to the broker. Requests may be pipelined; the broker answers a
    connection's requests in order, so answers are matched to a FIFO of pending requests and
    their correlation ids checked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.pending = collections.deque()
        self.next_id = 0
        self.reading = asyncio.get_running_loop().create_task(self._read_answers())

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    def request(self, api, body: bytes, parse, timed: bool = False) -> asyncio.Future:
        """Sends a request now; the future resolves to `parse(reader)` of its answer, or with
        `timed` to that and the seconds from sending to reading the answer."""
        key, version = api
        correlation_id = self.next_id
        self.next_id += 1
        header = struct.pack(">hhih", key, version, correlation_id, len(CLIENT_ID)) + CLIENT_ID + b"\x00"
        self.writer.write(struct.pack(">i", len(header) + len(body)) + header + body)
        future = asyncio.get_running_loop().create_future()
        self.pending.append((correlation_id, key, parse, future, time.perf_counter() if timed else None))
        return future

    async def _read_answers(self):
        try:
            while True:
                size = struct.unpack(">i", await self.reader.readexactly(4))[0]
                data = await self.reader.readexactly(size)
                if not self.pending:
                    raise BenchError("an answer arrived for no request")
                correlation_id, key, parse, future, sent_at = self.pending.popleft()
                r = Reader(data)
                if r.int32() != correlation_id:
                    raise BenchError(f"api {key}: answer out of order (correlation id)")
                if key != API_VERSIONS[0]:
                    r.tags()  # response header v1; ApiVersions answers always use v0
                value = parse(r)
                future.set_result(value if sent_at is None else (value, time.perf_counter() - sent_at))
        except Exception as error:  # connection closed or garbled: fail whoever waits
            failure = error if isinstance(error, BenchError) else BenchError(f"connection failed: {error!r}")
            while self.pending:
                future = self.pending.popleft()[3]
                if not future.done():
                    future.set_exception(failure)

    async def close(self):
        self.reading.cancel()
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except Exception:
            pass


async def open_connections(host, port, count, parallel=200) -> list[Connection]:
    """`count` connections, at most `parallel` handshakes at a time (the listen backlog is finite)."""
    gate = asyncio.Semaphore(parallel)

    async def one():
        async with gate:
            return await Connection.open(host, port)

    return await asyncio.gather(*(one() for _ in range(count)))


# --------------------------------------------------------------------------------------------
# Group members


@dataclass
class Plan:
    topic: str
    partitions: int
    heartbeat_s: float


@dataclass
class Member:
    conn: Connection
    group: "Group"
    member_id: str = ""
    generation: int = -1
    partitions: list = field(default_factory=list)
    synced_generation: int = -1  # the generation of the last successful SyncGroup
    rebalance_seen_at: float = 0.0  # when a Heartbeat last answered REBALANCE_IN_PROGRESS
    rejoined_at: float = 0.0  # when the last JoinGroup of a rebalance was sent
    heartbeats: int = 0


class Group:
    """A group's members as the driver knows them; `changed` fires whenever one syncs."""

    def __init__(self, name: str):
        self.name = name
        self.members: list[Member] = []
        self.changed = asyncio.Event()
        self.first_settled = asyncio.Event()  # set the moment the group first settles
        self.generations = 0  # the newest generation a member synced in

    def synced(self, member: Member):
        member.synced_generation = member.generation
        self.generations = max(self.generations, member.generation)
        self.changed.set()
        if self.settled():
            self.first_settled.set()

    def settled(self, after: int = -1) -> bool:
        """Every member has its SyncGroup answer in one generation newer than `after`."""
        generations = {m.synced_generation for m in self.members}
        return len(generations) == 1 and generations.pop() > after

    async def wait_settled(self, after: int = -1):
        while not self.settled(after):
            self.changed.clear()
            await self.changed.wait()

    def describe(self) -> str:
        return f"{self.name}: " + ", ".join(f"{m.member_id[-8:] or '?'}@gen{m.synced_generation}" for m in self.members)


async def join(member: Member, plan: Plan) -> JoinAnswer:
    """JoinGroup; a member without an id first gets one with MEMBER_ID_REQUIRED (KIP-394)."""
    group, metadata = member.group.name, subscription([plan.topic])
    member.rejoined_at = time.perf_counter()
    answer = await member.conn.request(JOIN_GROUP, join_group_request(group, member.member_id, metadata), parse_join_group)
    if not member.member_id:
        check(answer.error, f"first JoinGroup v{JOIN_GROUP[1]} of {group}", (MEMBER_ID_REQUIRED,))
        member.member_id = answer.member_id
        answer = await member.conn.request(JOIN_GROUP, join_group_request(group, member.member_id, metadata), parse_join_group)
    check(answer.error, f"JoinGroup v{JOIN_GROUP[1]} of {group} member {member.member_id}")
    member.generation = answer.generation
    return answer


def range_assignment(topic: str, partitions: int, member_ids: list[str]) -> list[tuple[str, bytes]]:
    """Kafka's range assignor for one topic: contiguous runs, the first members get one more."""
    ids = sorted(member_ids)
    share, extra = divmod(partitions, len(ids))
    result, start = [], 0
    for index, member_id in enumerate(ids):
        count = share + (1 if index < extra else 0)
        result.append((member_id, assignment(topic, list(range(start, start + count)))))
        start += count
    return result


async def sync(member: Member, answer: JoinAnswer, plan: Plan) -> int:
    """SyncGroup; the leader sends everyone's assignment. Returns NONE or REBALANCE_IN_PROGRESS."""
    assignments = []
    if answer.leader == member.member_id:
        assignments = range_assignment(plan.topic, plan.partitions, [m for m, _ in answer.members])
    body = sync_group_request(member.group.name, member.generation, member.member_id, answer.protocol_name, assignments)
    error, data = await member.conn.request(SYNC_GROUP, body, parse_sync_group)
    check(error, f"SyncGroup v{SYNC_GROUP[1]} of {member.group.name} gen {member.generation}", (NONE, REBALANCE_IN_PROGRESS))
    if error == NONE:
        member.partitions = assigned_partitions(data)
    return error


async def heartbeat(member: Member, allowed=(NONE, REBALANCE_IN_PROGRESS)) -> int:
    member.heartbeats += 1
    body = heartbeat_request(member.group.name, member.generation, member.member_id)
    error = await member.conn.request(HEARTBEAT, body, parse_error_after_throttle)
    return check(error, f"Heartbeat v{HEARTBEAT[1]} of {member.group.name} gen {member.generation}", allowed)


async def take_part(member: Member, plan: Plan, stop: asyncio.Event):
    """A consumer's group loop: join and sync, then heartbeat until `stop`, rejoining whenever
    a heartbeat answers REBALANCE_IN_PROGRESS."""
    while not stop.is_set():
        while True:
            answer = await join(member, plan)
            if await sync(member, answer, plan) == NONE:
                break
        member.group.synced(member)
        while True:
            try:
                await asyncio.wait_for(stop.wait(), plan.heartbeat_s)
                return
            except asyncio.TimeoutError:
                pass
            if await heartbeat(member) == REBALANCE_IN_PROGRESS:
                member.rebalance_seen_at = time.perf_counter()
                break


async def leave(group: Group, members: list[Member], conn: Connection):
    """One batched LeaveGroup for `members`; every member must be known."""
    body = leave_group_request(group.name, [m.member_id for m in members])
    error, answers = await conn.request(LEAVE_GROUP, body, parse_leave_group)
    check(error, f"LeaveGroup v{LEAVE_GROUP[1]} of {group.name}")
    for member_id, code in answers:
        check(code, f"LeaveGroup v{LEAVE_GROUP[1]} of {group.name} member {member_id}")


def commit_request(member: Member, topic: str, offset_of) -> bytes:
    """An OffsetCommit of `offset_of(partition)` for each of the member's partitions."""
    offsets = [(p, offset_of(p)) for p in member.partitions]
    return offset_commit_request(member.group.name, member.generation, member.member_id, topic, offsets)


def check_commit(codes: list[int], member: Member):
    """Every partition the member committed must be in the answer, without an error."""
    if len(codes) != len(member.partitions) or not codes:
        raise BenchError(f"OffsetCommit v{OFFSET_COMMIT[1]} of {member.group.name}: {len(codes)} partitions answered, "
                         f"{len(member.partitions)} committed")
    for code in codes:
        check(code, f"OffsetCommit v{OFFSET_COMMIT[1]} of {member.group.name} member {member.member_id}")


# --------------------------------------------------------------------------------------------
# Measuring


class Meter:
    """Wall time over a block, with the CPU time of the broker, of the driver and of everything
    else on the machine (other processes compete for the same cores and skew the figures)."""

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
        return time.perf_counter(), self._broker_cpu(), time.process_time(), self._machine_busy()

    def __enter__(self):
        self.start = self._sample()
        return self

    def __exit__(self, *_):
        end = self._sample()
        self.wall, self.broker_cpu, self.driver_cpu, busy = (b - a for a, b in zip(self.start, end))
        self.other_cores = (busy - self.driver_cpu - (0 if self.broker_pid is None else self.broker_cpu)) / self.wall

    def cpu(self) -> str:
        others = "" if self.broker_pid is None else f", other processes {max(0.0, self.other_cores):.1f} cores"
        return f"broker CPU {self.broker_cpu:.2f} s, driver CPU {self.driver_cpu:.2f} s{others}"


def pct(values, q) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


async def one_each(conns: list[Connection], api, bodies: list[bytes], parse) -> tuple[list, list[float]]:
    """One request per connection (`bodies[i]` on `conns[i]`), all sent at once; returns the
    answers and their latencies."""
    results = await asyncio.gather(*(c.request(api, body, parse, timed=True) for c, body in zip(conns, bodies)))
    return [value for value, _ in results], [latency for _, latency in results]


async def sequential_each(conns: list[Connection], rounds: int):
    """On every connection at once, `rounds` ApiVersions one after the other: the plain cost
    of the round trips a member makes to join (JoinGroup, JoinGroup, SyncGroup)."""
    async def one(conn):
        for _ in range(rounds):
            check_api_versions(await conn.request(API_VERSIONS, API_VERSIONS_BODY, parse_api_versions_error), 0)

    await asyncio.gather(*(one(c) for c in conns))


async def pipelined(conns: list[Connection], window: int, api, bodies: list[bytes], parse, check_answer):
    """Sends `bodies` (encoded beforehand, so that the driver's encoding stays out of the
    measurement) spread over `conns`, with `window` requests in flight on each connection;
    `check_answer(answer, i)` checks the answer to `bodies[i]`."""
    async def drive(first):
        conn, inflight = conns[first], collections.deque()
        numbers = iter(range(first, len(bodies), len(conns)))
        for number in numbers:
            inflight.append((number, conn.request(api, bodies[number], parse)))
            if len(inflight) == window:
                answered, future = inflight.popleft()
                check_answer(await future, answered)
        for answered, future in inflight:
            check_answer(await future, answered)

    await asyncio.gather(*(drive(i) for i in range(len(conns))))


def check_api_versions(error, _index):
    check(error, f"ApiVersions v{API_VERSIONS[1]}")


# --------------------------------------------------------------------------------------------
# The three parts


class Report:
    def __init__(self):
        self.rows = []  # (measurement, result, reference)

    def add(self, measurement, result, reference="—"):
        self.rows.append((measurement, result, reference))
        print(f"  {measurement}: {result}" + ("" if reference == "—" else f"  [reference: {reference}]"), flush=True)


async def form_groups(args, host, port, plan, meter_for, report) -> list[Group]:
    """Part 1: groups × members join at once; then one OffsetCommit per member."""
    size = args.groups * args.members
    print(f"part 1: {args.groups} groups × {args.members} members", flush=True)
    with meter_for() as m:
        conns = await open_connections(host, port, size)
    report.add(f"open {size} connections", f"{ms(m.wall)}")
    groups = [Group(f"{args.prefix}-g{g:05d}") for g in range(args.groups)]
    for index, conn in enumerate(conns):
        group = groups[index // args.members]
        group.members.append(Member(conn, group))
    members = [member for g in groups for member in g.members]

    # Clients look up their coordinator first (not timed); it must be this broker.
    bodies = [find_coordinator_request(m.group.name) for m in members]
    answers, _ = await one_each(conns, FIND_COORDINATOR, bodies, parse_find_coordinator)
    for coordinators in answers:
        for key, _node, chost, cport, code in coordinators:
            check(code, f"FindCoordinator v{FIND_COORDINATOR[1]} for {key}")
            if (chost, cport) != (host, port):
                raise BenchError(f"FindCoordinator for {key} names {chost}:{cport}, not {host}:{port}")

    # Reference: the three round trips of a member that joins (JoinGroup, JoinGroup, SyncGroup)
    # as ApiVersions, on every member's connection at once.
    with meter_for() as ref:
        await sequential_each(conns, 3)

    settled_at = {}

    async def watch(group: Group, start: float):
        await group.first_settled.wait()
        settled_at[group.name] = time.perf_counter() - start

    with meter_for() as m:
        start = time.perf_counter()
        # A Stable group stops heartbeating (see the docstring): its members stop on first_settled.
        tasks = [asyncio.create_task(take_part(member, plan, member.group.first_settled)) for member in members]
        watchers = [asyncio.create_task(watch(g, start)) for g in groups]
        await wait_all(watchers + tasks, args.timeout, lambda: [g.describe() for g in groups if g.name not in settled_at])
    rebalanced = sum(1 for g in groups if g.generations > 1)
    heartbeats = sum(member.heartbeats for member in members)
    report.add(
        f"{args.groups} groups × {args.members} members join at once: JoinGroup v{JOIN_GROUP[1]} (MEMBER_ID_REQUIRED), "
        f"JoinGroup, SyncGroup v{SYNC_GROUP[1]}, until all {size} are Stable",
        f"{ms(m.wall)} ({size / m.wall:,.0f} members/s); groups settled after p50 {ms(pct(settled_at.values(), 50))}, "
        f"p99 {ms(pct(settled_at.values(), 99))}; {rebalanced} groups needed more than one generation, "
        f"{heartbeats} heartbeats; {m.cpu()} (broker {m.broker_cpu / size * 1e6:.0f} µs per member)",
        f"{size} connections × 3 sequential ApiVersions: {ms(ref.wall)}; {ref.cpu()} "
        f"(broker {ref.broker_cpu / size / 3 * 1e6:.0f} µs per request)",
    )

    # One OffsetCommit per member, all at once, against one ApiVersions per connection.
    with meter_for() as ref:
        answers, ref_latencies = await one_each(conns, API_VERSIONS, [API_VERSIONS_BODY] * size, parse_api_versions_error)
    for answer in answers:
        check_api_versions(answer, 0)
    bodies = [commit_request(member, plan.topic, lambda p: 1000 + p) for member in members]
    with meter_for() as m:
        answers, latencies = await one_each(conns, OFFSET_COMMIT, bodies, parse_offset_commit)
    for codes, member in zip(answers, members):
        check_commit(codes, member)
    report.add(
        f"then one OffsetCommit v{OFFSET_COMMIT[1]} per member ({size} at once, one per connection, "
        f"{args.partitions_per_member} partitions each)",
        f"{ms(m.wall)} ({size / m.wall:,.0f} commits/s); latency p50 {ms(pct(latencies, 50))}, p99 {ms(pct(latencies, 99))}; {m.cpu()}",
        f"{size} ApiVersions the same way: {ms(ref.wall)}; p50 {ms(pct(ref_latencies, 50))}, p99 {ms(pct(ref_latencies, 99))}; {ref.cpu()}",
    )
    verify_offsets(args, host, port, groups[:: max(1, len(groups) // 10)], plan.topic)
    return groups


def verify_offsets(args, host, port, groups: list[Group], topic: str):
    """Reads back the offsets part 1 committed for a sample of groups (confluent-kafka admin)."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": f"{host}:{port}"})
    for group in groups:
        request = ConsumerGroupTopicPartitions(group.name, [TopicPartition(topic, p) for p in range(args.partitions)])
        result = admin.list_consumer_group_offsets([request])[group.name].result(timeout=30)
        got = {tp.partition: tp.offset for tp in result.topic_partitions}
        expected = {p: 1000 + p for p in range(args.partitions)}
        if got != expected:
            raise BenchError(f"OffsetFetch of {group.name} after the commits: {got}, expected {expected}")


async def wait_all(tasks, timeout, describe_unsettled):
    """Waits for every task; the first failure (or the timeout) cancels the rest."""
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception():
            raise task.exception()
    if pending:
        unsettled = describe_unsettled()
        raise BenchError(f"not settled after {timeout} s: {len(unsettled)} groups, e.g. {unsettled[:5]}")


async def commit_throughput(args, host, port, plan, groups, meter_for, report):
    """Part 3: pipelined OffsetCommits (and Heartbeats) of the part-1 members over a few connections."""
    print(f"part 3: {args.requests} requests over {args.connections} connections, {args.window} in flight each", flush=True)
    conns = await open_connections(host, port, args.connections)
    members = [member for g in groups for member in g.members]
    count, per_commit = args.requests, args.partitions_per_member
    member_of = lambda i: members[i % len(members)]  # noqa: E731

    async def reference_run():
        with meter_for() as ref:
            await pipelined(conns, args.window, API_VERSIONS, [API_VERSIONS_BODY] * count, parse_api_versions_error, check_api_versions)
        return ref

    before = await reference_run()

    bodies = [commit_request(member_of(i), plan.topic, lambda p: 2000 + i) for i in range(count)]
    with meter_for() as m:
        await pipelined(conns, args.window, OFFSET_COMMIT, bodies, parse_offset_commit, lambda codes, i: check_commit(codes, member_of(i)))
    commits = m

    bodies = [heartbeat_request(member_of(i).group.name, member_of(i).generation, member_of(i).member_id) for i in range(count)]
    with meter_for() as m:
        await pipelined(conns, args.window, HEARTBEAT, bodies, parse_error_after_throttle, lambda code, i: check(code, f"Heartbeat v{HEARTBEAT[1]}"))
    heartbeats = m
    after = await reference_run()
    reference = (f"{count} ApiVersions the same way, before / after: {count / before.wall:,.0f} / {count / after.wall:,.0f} requests/s; "
                 f"before: {before.cpu()}; after: {after.cpu()}")
    report.add(
        f"OffsetCommit v{OFFSET_COMMIT[1]} throughput, members of Stable groups ({per_commit} partitions per commit, "
        f"{args.connections} connections × {args.window} in flight)",
        f"{count / commits.wall:,.0f} commits/s = {count * per_commit / commits.wall:,.0f} offsets/s "
        f"({count} commits in {commits.wall:.2f} s); {commits.cpu()}",
        reference,
    )
    report.add(
        f"Heartbeat v{HEARTBEAT[1]} throughput, members of Stable groups ({args.connections} connections × {args.window} in flight)",
        f"{count / heartbeats.wall:,.0f} heartbeats/s ({count} in {heartbeats.wall:.2f} s); {heartbeats.cpu()}",
        "the same ApiVersions runs",
    )
    for conn in conns:
        await conn.close()


async def rebalance(args, host, port, plan, meter_for, report):
    """Part 2: one group of N members; a member joins, then that member leaves, `rounds` times."""
    n = args.rebalance_members
    print(f"part 2: rebalances of a group of {n} members, {args.rounds} rounds", flush=True)
    conns = await open_connections(host, port, n + 1)
    group = Group(f"{args.prefix}-rebalance")
    members = [Member(c, group) for c in conns[:n]]
    group.members = list(members)
    with meter_for() as ref3:
        await sequential_each(conns[:n], 3)
    with meter_for() as ref2:
        await sequential_each(conns, 2)
    stop = asyncio.Event()
    with meter_for() as m:
        tasks = [asyncio.create_task(take_part(member, plan, stop)) for member in members]
        await wait_group(group, -1, tasks, args.timeout)
    report.add(f"a group of {n} members forms (all join at once)", f"{ms(m.wall)}; {m.cpu()}",
               f"{n} connections × 3 sequential ApiVersions: {ms(ref3.wall)}")

    join_times, leave_times, join_detect, leave_detect, join_tails, leave_tails = [], [], [], [], [], []
    for _ in range(args.rounds):
        # A new member joins: its first JoinGroup gets MEMBER_ID_REQUIRED, its second starts the rebalance.
        joiner, joiner_stop = Member(conns[n], group), asyncio.Event()
        before = max(mb.synced_generation for mb in group.members)
        start = time.perf_counter()
        group.members.append(joiner)
        joiner_task = asyncio.create_task(take_part(joiner, plan, joiner_stop))
        await wait_group(group, before, tasks + [joiner_task], args.timeout)
        join_times.append(time.perf_counter() - start)
        join_detect.append(max(mb.rebalance_seen_at for mb in members) - start)
        join_tails.append(time.perf_counter() - max(mb.rejoined_at for mb in members))

        # The new member leaves again (it stops heartbeating first, as a closing consumer does).
        joiner_stop.set()
        await joiner_task
        group.members.remove(joiner)
        before = max(mb.synced_generation for mb in group.members)
        start = time.perf_counter()
        await leave(group, [joiner], conns[n])
        await wait_group(group, before, tasks, args.timeout)
        leave_times.append(time.perf_counter() - start)
        leave_detect.append(max(mb.rebalance_seen_at for mb in members) - start)
        leave_tails.append(time.perf_counter() - max(mb.rejoined_at for mb in members))

    def summary(times, detect, tails):
        return (f"median {ms(statistics.median(times))} (min {ms(min(times))}, max {ms(max(times))}) over {len(times)} rounds; "
                f"the last member saw REBALANCE_IN_PROGRESS after a median {ms(statistics.median(detect))}; "
                f"from the last member's rejoin to all synced: median {ms(statistics.median(tails))}")

    hb = f"heartbeat every {args.heartbeat_ms} ms"
    reference = (f"detection takes up to one heartbeat interval ({args.heartbeat_ms} ms); "
                 f"{n + 1} connections × 2 sequential ApiVersions (as rejoin + sync): {ms(ref2.wall)}")
    report.add(f"rebalance when member {n + 1} joins a Stable group of {n} ({hb})", summary(join_times, join_detect, join_tails), reference)
    report.add(f"rebalance when 1 of {n + 1} members leaves (LeaveGroup v{LEAVE_GROUP[1]}, {hb})",
               summary(leave_times, leave_detect, leave_tails), reference)
    stop.set()
    await asyncio.gather(*tasks)
    await leave(group, members, conns[0])
    for conn in conns:
        await conn.close()


async def wait_group(group: Group, after: int, tasks, timeout):
    """Waits until `group` settles in a generation newer than `after`, failing if a member task fails."""
    waiter = asyncio.create_task(group.wait_settled(after))
    done, _ = await asyncio.wait([waiter] + list(tasks), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        return
    waiter.cancel()
    for task in done:
        if task.exception():
            raise task.exception()
    raise BenchError(f"group not settled after {timeout} s: {group.describe()}")


# --------------------------------------------------------------------------------------------
# Broker process, topic, main


class Broker:
    """`brook server` on 127.0.0.1 with an ephemeral port and a temporary data directory."""
    LISTENING = re.compile(r"listening on PLAINTEXT://([0-9.]+):(\d+)")

    def __init__(self, binary: Path):
        self.directory = tempfile.TemporaryDirectory(prefix="brook-bench-groups-")
        args = [str(binary), "server",
                "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--override", f"log.dirs={self.directory.name}",
                "--override", "group.initial.rebalance.delay.ms=0"]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = collections.deque(maxlen=200)
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


def create_topic(host, port, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": f"{host}:{port}"})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(timeout=30)


async def check_versions(host, port):
    """The broker must support every version the benchmark sends."""
    conn = await Connection.open(host, port)
    error, versions = await conn.request(API_VERSIONS, api_versions_request(), parse_api_versions)
    check(error, "ApiVersions")
    for key, version in (OFFSET_COMMIT, FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, API_VERSIONS):
        low, high = versions.get(key, (0, -1))
        if not low <= version <= high:
            raise BenchError(f"the broker does not support api {key} v{version} (it has {low}..{high})")
    await conn.close()


def raise_file_limit(needed: int):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise BenchError(f"needs {needed} open files, the limit is {soft}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--brook", type=Path, default=ROOT / ".build-rel" / "release" / "brook", help="brook binary to start")
    p.add_argument("--bootstrap", help="HOST:PORT of a running broker (then none is started)")
    p.add_argument("--groups", type=int, default=1000, help="part 1: groups (default 1000)")
    p.add_argument("--members", type=int, default=3, help="part 1: members per group (default 3)")
    p.add_argument("--partitions-per-member", type=int, default=10, help="partitions each member commits (default 10)")
    p.add_argument("--rebalance-members", type=int, default=50, help="part 2: members of the rebalancing group (default 50)")
    p.add_argument("--rounds", type=int, default=5, help="part 2: join/leave rounds (default 5)")
    p.add_argument("--requests", type=int, default=50_000, help="part 3: requests per throughput run (default 50000)")
    p.add_argument("--connections", type=int, default=8, help="part 3: connections (default 8)")
    p.add_argument("--window", type=int, default=16, help="part 3: requests in flight per connection (default 16)")
    p.add_argument("--heartbeat-ms", type=int, default=100, help="heartbeat interval while groups form or rebalance (default 100)")
    p.add_argument("--timeout", type=float, default=120, help="seconds a group may take to settle (default 120)")
    p.add_argument("--parts", default="1,2,3", help="which parts to run (default 1,2,3; 3 needs 1)")
    args = p.parse_args(argv)
    args.partitions = args.members * args.partitions_per_member
    args.prefix = f"bench-{os.getpid()}"
    args.parts = {int(x) for x in args.parts.split(",")}
    if 3 in args.parts:
        args.parts.add(1)
    return args


async def run(args, host, port, broker_pid) -> Report:
    report = Report()
    meter_for = lambda: Meter(broker_pid)  # noqa: E731
    plan = Plan(topic=f"{args.prefix}-topic", partitions=args.partitions, heartbeat_s=args.heartbeat_ms / 1000)
    await check_versions(host, port)
    create_topic(host, port, plan.topic, plan.partitions)
    if 1 in args.parts:
        groups = await form_groups(args, host, port, plan, meter_for, report)
        if 3 in args.parts:
            await commit_throughput(args, host, port, plan, groups, meter_for, report)
        for group in groups:
            await leave(group, group.members, group.members[0].conn)
        for group in groups:
            for member in group.members:
                await member.conn.close()
    if 2 in args.parts:
        await rebalance(args, host, port, plan, meter_for, report)
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    raise_file_limit(args.groups * args.members + args.rebalance_members + args.connections + 200)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs", flush=True)
    broker, report, failed = None, None, False
    try:
        if args.bootstrap:
            host, port = args.bootstrap.rsplit(":", 1)
            port, pid = int(port), None
        else:
            broker = Broker(args.brook)
            host, port, pid = broker.host, broker.port, broker.process.pid
            print(f"started {args.brook} on {host}:{port} (pid {pid})", flush=True)
        report = asyncio.run(run(args, host, port, pid))
    except BenchError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        failed = True
    finally:
        if broker is not None:
            failed |= not stop_broker(broker)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if report is not None:
        print("\n| Measurement | Result | Reference (same run) |\n| --- | --- | --- |")
        for measurement, result, reference in report.rows:
            print(f"| {measurement} | {result} | {reference} |")
    return 1 if failed else 0


def stop_broker(broker: Broker) -> bool:
    """Stops the broker; False if it had died or does not stop cleanly. Shows its complaints."""
    died = broker.process.poll() is not None
    status = broker.stop()
    complaints = [line for line in broker.output if re.search(r" (warning|error|critical) ", line)]
    print(f"broker exit status {status}{' (it had died during the run)' if died else ''}; "
          f"{len(complaints)} warning/error lines in its log", flush=True)
    for line in (broker.output if died else complaints[:20]):
        print("  " + line.rstrip())
    return status == 0 and not died


if __name__ == "__main__":
    sys.exit(main())
