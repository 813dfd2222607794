"""A tiny fake Kafka broker for capturing client request bytes (stdlib only).

It listens on 127.0.0.1 (ephemeral port), records every request frame
verbatim (without the 4-byte size prefix) and answers just enough for real
clients (librdkafka, kafka-python) to move on to their next request.  It is a
single-node "cluster": node 0 at 127.0.0.1:<port> leads every partition and
coordinates every group and transaction.

Run standalone for manual experiments:
    python3 fake_broker.py [--port N]
"""

import argparse
import hashlib
import socket
import struct
import sys
import threading
import time

import kafka_codec

# Advertised versions: everything the spec marks as served by a broker, at
# its full valid range (minus an unstable latest version).  Minimums are kept
# at the spec's (not lifted the way Kafka 4.0 lifts them): older librdkafka
# (kcat's 2.0.2) derives "broker supports gzip/snappy/lz4" from the presence
# of old Produce/Fetch versions and silently stops compressing otherwise.
MIN_OVERRIDES = {}
# ConsumerGroupHeartbeat v1 is flagged "latestVersionUnstable" in the spec
# copy, but librdkafka 2.16 insists on v1 for the KIP-848 consumer protocol
# (Kafka 4.0 ships v1 as stable).
MAX_OVERRIDES = {"ConsumerGroupHeartbeat": 1}

ERR_UNSUPPORTED_VERSION = 35
ERR_MEMBER_ID_REQUIRED = 79


def advertised_versions(codec, max_overrides=None):
    out = {}
    for key, m in sorted(codec.requests.items()):
        if "broker" not in m.listeners:
            continue
        lo, hi = m.valid.lo, m.valid.hi
        if m.unstable_latest:
            hi -= 1
        name = codec.api_name(key)
        lo = max(lo, MIN_OVERRIDES.get(name, lo))
        mo = dict(MAX_OVERRIDES, **(max_overrides or {}))
        if name in mo:
            hi = mo[name]
        if hi < lo:
            continue
        out[key] = (lo, hi)
    return out


def topic_uuid(name):
    return hashlib.md5(("brook-capture/" + name).encode()).digest()


class Partition:
    def __init__(self):
        self.batches = []  # list of (base_offset, last_offset, bytes)
        self.hw = 0
        self.log_start = 0

    def append(self, records):
        """Appends the record batches of a Produce request; returns base offset."""
        base = self.hw
        if not records:
            return base
        pos = 0
        while pos + 12 <= len(records):
            length = struct.unpack_from(">i", records, pos + 8)[0]
            batch = bytearray(records[pos:pos + 12 + length])
            pos += 12 + length
            magic = batch[16] if len(batch) > 16 else 2
            if magic == 2:
                last_delta = struct.unpack_from(">i", batch, 23)[0]
            else:  # legacy message set entry: one (wrapper) message
                last_delta = 0
            struct.pack_into(">q", batch, 0, self.hw)
            self.batches.append((self.hw, self.hw + last_delta, bytes(batch)))
            self.hw += last_delta + 1
        return base

    def read(self, offset, max_bytes):
        out = bytearray()
        for base, last, data in self.batches:
            if last < offset:
                continue
            if out and len(out) + len(data) > max_bytes:
                break
            out += data
        return bytes(out)


class Topic:
    def __init__(self, name, partitions, configs=None):
        self.name = name
        self.id = topic_uuid(name)
        self.partitions = [Partition() for _ in range(partitions)]
        self.configs = dict(configs or {})


class Group:
    def __init__(self, gid):
        self.id = gid
        self.generation = 0
        self.protocol_type = "consumer"
        self.protocol = None
        self.leader = None
        self.members = {}  # member_id -> dict(client_id, host, metadata, assignment, instance)
        self.offsets = {}  # (topic, partition) -> (offset, metadata)
        self.state = "Empty"
        self.kip848 = False  # a KIP-848 (ConsumerGroupHeartbeat) group


class FakeBroker:
    def __init__(self, codec=None, host="127.0.0.1", port=0, default_partitions=1,
                 max_overrides=None, log=None, fetch_idle_wait_ms=100,
                 auto_create_topics=True):
        assert host.startswith("127.")
        self.codec = codec or kafka_codec.Codec()
        self.host = host
        self.req_port = port
        self.default_partitions = default_partitions
        self.versions = advertised_versions(self.codec, max_overrides)
        self.log = log
        self.fetch_idle_wait_ms = fetch_idle_wait_ms
        self.auto_create_topics = auto_create_topics
        self.lock = threading.RLock()
        self.topics = {}
        self.groups = {}
        self.frames = []  # dicts: conn, time, data, api_key, api_version, ...
        self.next_pid = 1000
        self.member_seq = 0
        self.cluster_id = "YnJvb2stY2FwdHVyZS0x"
        self.sock = None
        self.threads = []
        self.conns = []
        self.stopping = False
        self.conn_seq = 0

    # ------------------------------------------------------------ lifecycle
    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.req_port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self.threads.append(t)
        return self.port

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass
        for c in list(self.conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass

    def _log(self, msg):
        if self.log:
            self.log.write("%.3f %s\n" % (time.time(), msg))
            self.log.flush()

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, addr = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conn_seq += 1
                cid = self.conn_seq
            self.conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn, cid), daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _recv_exact(conn, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def _serve(self, conn, cid):
        self._log("conn %d open" % cid)
        try:
            while not self.stopping:
                size = struct.unpack(">i", self._recv_exact(conn, 4))[0]
                data = self._recv_exact(conn, size)
                resp = self._handle(cid, data)
                if resp == "close":
                    break
                if resp is not None:
                    conn.sendall(struct.pack(">i", len(resp)) + resp)
        except (EOFError, OSError):
            pass
        except Exception as e:  # keep serving other connections
            self._log("conn %d error %r" % (cid, e))
            import traceback
            traceback.print_exc(file=self.log or sys.stderr)
        finally:
            self._log("conn %d closed" % cid)
            try:
                conn.close()
            except OSError:
                pass

    # ------------------------------------------------------------ dispatch
    def _handle(self, cid, data):
        c = self.codec
        api_key, api_version, corr = struct.unpack_from(">hhi", data, 0)
        rec = {"conn": cid, "time": time.time(), "data": data, "api_key": api_key,
               "api_version": api_version, "correlation_id": corr}
        with self.lock:
            self.frames.append(rec)
        name = c.api_name(api_key)
        supported = self.versions.get(api_key)
        if api_key == 18 and (supported is None or not supported[0] <= api_version <= supported[1]):
            self._log("conn %d ApiVersions v%d unsupported -> v0 error 35" % (cid, api_version))
            rec["note"] = "unsupported-version"
            body = {"ErrorCode": ERR_UNSUPPORTED_VERSION, "ApiKeys": self._api_keys()}
            return c.encode_response(18, 0, corr, body)
        if supported is None or not supported[0] <= api_version <= supported[1]:
            self._log("conn %d %s v%d not advertised: closing" % (cid, name, api_version))
            return "close"
        try:
            hdr, hv, body, rest = c.decode_request(data)
        except Exception as e:
            self._log("conn %d %s v%d decode error %r" % (cid, name, api_version, e))
            return "close"
        rec["client_id"] = hdr["client_id"]
        rec["header_version"] = hv
        rec["body"] = body
        if rest:
            self._log("conn %d %s v%d: %d trailing bytes" % (cid, name, api_version, rest))
        handler = getattr(self, "h_" + name, None)
        with self.lock:
            resp = handler(hdr, body, api_version) if handler else {}
        self._log("conn %d %s v%d corr=%d client=%s%s" % (
            cid, name, api_version, corr, hdr["client_id"],
            "" if handler else " (default response)"))
        if resp is None:
            return None
        return c.encode_response(api_key, api_version, corr, resp)

    def _api_keys(self):
        return [{"ApiKey": k, "MinVersion": lo, "MaxVersion": hi}
                for k, (lo, hi) in sorted(self.versions.items())]

    # ------------------------------------------------------------ state helpers
    def topic(self, name, create=None, partitions=None):
        t = self.topics.get(name)
        if t is None and (create if create is not None else self.auto_create_topics):
            t = self.topics[name] = Topic(name, partitions or self.default_partitions)
        return t

    def topic_by_id(self, tid):
        for t in self.topics.values():
            if t.id == tid:
                return t
        return None

    def group(self, gid):
        g = self.groups.get(gid)
        if g is None:
            g = self.groups[gid] = Group(gid)
        return g

    def node(self):
        return {"NodeId": 0, "Host": self.host, "Port": self.port}

    # ------------------------------------------------------------ handlers
    def h_ApiVersions(self, hdr, body, v):
        return {"ErrorCode": 0, "ApiKeys": self._api_keys(), "ThrottleTimeMs": 0}

    def h_Metadata(self, hdr, body, v):
        req = body.get("Topics")
        topics = []
        if req is None:
            names = sorted(self.topics)
            req = [{"Name": n} for n in names]
        for rt in req:
            name = rt.get("Name")
            t = None
            if name:
                allow = body.get("AllowAutoTopicCreation", True)
                t = self.topic(name, create=self.auto_create_topics and allow)
            elif rt.get("TopicId") and rt["TopicId"] != b"\0" * 16:
                t = self.topic_by_id(rt["TopicId"])
            if t is None:
                topics.append({"ErrorCode": 3, "Name": name, "TopicId": rt.get("TopicId", b"\0" * 16),
                               "Partitions": []})
                continue
            topics.append({
                "ErrorCode": 0, "Name": t.name, "TopicId": t.id, "IsInternal": False,
                "Partitions": [{"ErrorCode": 0, "PartitionIndex": i, "LeaderId": 0,
                                "LeaderEpoch": 0, "ReplicaNodes": [0], "IsrNodes": [0],
                                "OfflineReplicas": []}
                               for i in range(len(t.partitions))],
            })
        b = self.node()
        return {"Brokers": [{"NodeId": 0, "Host": b["Host"], "Port": b["Port"], "Rack": None}],
                "ClusterId": self.cluster_id, "ControllerId": 0, "Topics": topics}

    def h_Produce(self, hdr, body, v):
        responses = []
        for td in body["TopicData"]:
            t = self.topic(td["Name"], create=True)
            parts = []
            for pd in td["PartitionData"]:
                idx = pd["Index"]
                if idx >= len(t.partitions):
                    parts.append({"Index": idx, "ErrorCode": 3, "BaseOffset": -1})
                    continue
                base = t.partitions[idx].append(pd["Records"])
                parts.append({"Index": idx, "ErrorCode": 0, "BaseOffset": base,
                              "LogAppendTimeMs": -1, "LogStartOffset": 0})
            responses.append({"Name": td["Name"], "PartitionResponses": parts})
        if body["Acks"] == 0:
            return None
        return {"Responses": responses, "ThrottleTimeMs": 0}

    def h_Fetch(self, hdr, body, v):
        out = []
        any_data = False
        for ft in body["Topics"]:
            t = self.topic_by_id(ft["TopicId"]) if v >= 13 else self.topic(ft["Topic"], create=False)
            parts = []
            for fp in ft["Partitions"]:
                idx = fp["Partition"]
                if t is None or idx >= len(t.partitions):
                    parts.append({"PartitionIndex": idx, "ErrorCode": 100 if v >= 13 else 3,
                                  "HighWatermark": -1, "Records": b""})
                    continue
                p = t.partitions[idx]
                data = p.read(fp["FetchOffset"], max(fp["PartitionMaxBytes"], 1))
                any_data = any_data or bool(data)
                parts.append({"PartitionIndex": idx, "ErrorCode": 0, "HighWatermark": p.hw,
                              "LastStableOffset": p.hw, "LogStartOffset": p.log_start,
                              "AbortedTransactions": [], "PreferredReadReplica": -1,
                              "Records": data})
            out.append({"Topic": ft.get("Topic"), "TopicId": ft.get("TopicId", b"\0" * 16),
                        "Partitions": parts})
        if not any_data:
            wait = min(body["MaxWaitMs"], self.fetch_idle_wait_ms) / 1000.0
            self.lock.release()
            try:
                time.sleep(max(wait, 0))
            finally:
                self.lock.acquire()
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 0, "Responses": out}

    def h_ListOffsets(self, hdr, body, v):
        out = []
        for lt in body["Topics"]:
            t = self.topic(lt["Name"], create=False)
            parts = []
            for lp in lt["Partitions"]:
                idx = lp["PartitionIndex"]
                if t is None or idx >= len(t.partitions):
                    parts.append({"PartitionIndex": idx, "ErrorCode": 3})
                    continue
                p = t.partitions[idx]
                ts = lp["Timestamp"]
                if ts == -2:
                    off = p.log_start
                elif ts == -1:
                    off = p.hw
                elif ts == -3:  # max timestamp
                    off = max(p.hw - 1, 0)
                else:
                    off = p.log_start if p.hw else -1
                parts.append({"PartitionIndex": idx, "ErrorCode": 0, "Timestamp": -1,
                              "Offset": off, "OldStyleOffsets": [off], "LeaderEpoch": 0})
            out.append({"Name": lt["Name"], "Partitions": parts})
        return {"Topics": out}

    def h_FindCoordinator(self, hdr, body, v):
        n = self.node()
        if v >= 4:
            return {"Coordinators": [dict(n, Key=k, ErrorCode=0, ErrorMessage=None)
                                     for k in body["CoordinatorKeys"]]}
        return dict(n, ErrorCode=0, ErrorMessage=None)

    def h_JoinGroup(self, hdr, body, v):
        g = self.group(body["GroupId"])
        mid = body["MemberId"]
        if not mid:
            self.member_seq += 1
            mid = "%s-%08d" % (hdr["client_id"] or "member", self.member_seq)
            if v >= 4:
                return {"ErrorCode": ERR_MEMBER_ID_REQUIRED, "GenerationId": -1,
                        "ProtocolName": None if v >= 7 else "", "Leader": "",
                        "MemberId": mid, "Members": []}
        g.generation += 1
        g.protocol_type = body["ProtocolType"]
        g.protocol = body["Protocols"][0]["Name"]
        g.members = {mid: {"client_id": hdr["client_id"] or "", "host": "/127.0.0.1",
                           "metadata": body["Protocols"][0]["Metadata"],
                           "instance": body.get("GroupInstanceId"), "assignment": b""}}
        g.leader = mid
        g.state = "CompletingRebalance"
        return {"ErrorCode": 0, "GenerationId": g.generation, "ProtocolType": g.protocol_type,
                "ProtocolName": g.protocol, "Leader": mid, "SkipAssignment": False,
                "MemberId": mid,
                "Members": [{"MemberId": m, "GroupInstanceId": d["instance"], "Metadata": d["metadata"]}
                            for m, d in g.members.items()]}

    def h_SyncGroup(self, hdr, body, v):
        g = self.group(body["GroupId"])
        for a in body["Assignments"] or []:
            if a["MemberId"] in g.members:
                g.members[a["MemberId"]]["assignment"] = a["Assignment"]
        g.state = "Stable"
        m = g.members.get(body["MemberId"], {})
        return {"ErrorCode": 0 if m else 25, "ProtocolType": g.protocol_type,
                "ProtocolName": g.protocol, "Assignment": m.get("assignment", b"")}

    def h_Heartbeat(self, hdr, body, v):
        return {"ErrorCode": 0}

    def h_LeaveGroup(self, hdr, body, v):
        g = self.group(body["GroupId"])
        members = body.get("Members") or [{"MemberId": body.get("MemberId"), "GroupInstanceId": None}]
        for m in members:
            g.members.pop(m["MemberId"], None)
        if not g.members:
            g.state = "Empty"
        return {"ErrorCode": 0, "Members": [{"MemberId": m["MemberId"],
                                             "GroupInstanceId": m.get("GroupInstanceId"),
                                             "ErrorCode": 0} for m in members]}

    def h_OffsetCommit(self, hdr, body, v):
        g = self.group(body["GroupId"])
        out = []
        for t in body["Topics"]:
            parts = []
            for p in t["Partitions"]:
                g.offsets[(t["Name"], p["PartitionIndex"])] = (p["CommittedOffset"], p["CommittedMetadata"])
                parts.append({"PartitionIndex": p["PartitionIndex"], "ErrorCode": 0})
            out.append({"Name": t["Name"], "Partitions": parts})
        return {"Topics": out}

    def _offsets_for(self, g, topics):
        if topics is None:
            names = {}
            for (tn, pi) in sorted(g.offsets):
                names.setdefault(tn, []).append(pi)
            topics = [{"Name": n, "PartitionIndexes": ps} for n, ps in names.items()]
        out = []
        for t in topics:
            parts = []
            for pi in t["PartitionIndexes"]:
                off, meta = g.offsets.get((t["Name"], pi), (-1, ""))
                parts.append({"PartitionIndex": pi, "CommittedOffset": off,
                              "CommittedLeaderEpoch": -1, "Metadata": meta, "ErrorCode": 0})
            out.append({"Name": t["Name"], "Partitions": parts})
        return out

    def h_OffsetFetch(self, hdr, body, v):
        if v >= 8:
            return {"Groups": [{"GroupId": rg["GroupId"], "ErrorCode": 0,
                                "Topics": self._offsets_for(self.group(rg["GroupId"]), rg["Topics"])}
                               for rg in body["Groups"]]}
        return {"ErrorCode": 0,
                "Topics": self._offsets_for(self.group(body["GroupId"]), body["Topics"])}

    def h_TxnOffsetCommit(self, hdr, body, v):
        return {"Topics": [{"Name": t["Name"],
                            "Partitions": [{"PartitionIndex": p["PartitionIndex"], "ErrorCode": 0}
                                           for p in t["Partitions"]]}
                           for t in body["Topics"]]}

    def h_OffsetDelete(self, hdr, body, v):
        return {"ErrorCode": 0, "Topics": [
            {"Name": t["Name"], "Partitions": [{"PartitionIndex": p["PartitionIndex"], "ErrorCode": 0}
                                               for p in t["Partitions"]]} for t in body["Topics"]]}

    def h_InitProducerId(self, hdr, body, v):
        pid = body.get("ProducerId", -1)
        if pid is None or pid < 0:
            pid = self.next_pid
            self.next_pid += 1
            epoch = 0
        else:
            epoch = body.get("ProducerEpoch", -1) + 1
        return {"ErrorCode": 0, "ProducerId": pid, "ProducerEpoch": epoch}

    def h_AddPartitionsToTxn(self, hdr, body, v):
        def res(topics):
            return [{"Name": t["Name"],
                     "ResultsByPartition": [{"PartitionIndex": p, "PartitionErrorCode": 0}
                                            for p in t["Partitions"]]} for t in topics]
        if v >= 4:
            return {"ErrorCode": 0, "ResultsByTransaction": [
                {"TransactionalId": tx["TransactionalId"], "TopicResults": res(tx["Topics"])}
                for tx in body["Transactions"]]}
        return {"ResultsByTopicV3AndBelow": res(body["V3AndBelowTopics"])}

    def h_AddOffsetsToTxn(self, hdr, body, v):
        return {"ErrorCode": 0}

    def h_EndTxn(self, hdr, body, v):
        return {"ErrorCode": 0}

    def h_CreateTopics(self, hdr, body, v):
        out = []
        for ct in body["Topics"]:
            n = ct["NumPartitions"] if ct["NumPartitions"] > 0 else self.default_partitions
            exists = ct["Name"] in self.topics
            if not exists and not body.get("validateOnly"):
                t = self.topics[ct["Name"]] = Topic(ct["Name"], n,
                                                    {c["Name"]: c["Value"] for c in ct["Configs"]})
            out.append({"Name": ct["Name"], "TopicId": topic_uuid(ct["Name"]),
                        "ErrorCode": 36 if exists else 0,
                        "ErrorMessage": "Topic already exists." if exists else None,
                        "NumPartitions": n,
                        "ReplicationFactor": max(ct["ReplicationFactor"], 1),
                        "Configs": []})
        return {"Topics": out}

    def h_DeleteTopics(self, hdr, body, v):
        out = []
        reqs = body["Topics"] if v >= 6 else [{"Name": n, "TopicId": b"\0" * 16} for n in body["TopicNames"]]
        for rt in reqs:
            t = self.topics.get(rt["Name"]) if rt["Name"] else self.topic_by_id(rt["TopicId"])
            if t is not None:
                del self.topics[t.name]
            out.append({"Name": t.name if t else rt["Name"], "TopicId": t.id if t else rt["TopicId"],
                        "ErrorCode": 0 if t else 3})
        return {"Responses": out}

    def h_CreatePartitions(self, hdr, body, v):
        out = []
        for ct in body["Topics"]:
            t = self.topics.get(ct["Name"])
            if t is not None:
                while len(t.partitions) < ct["Count"]:
                    t.partitions.append(Partition())
            out.append({"Name": ct["Name"], "ErrorCode": 0 if t else 3, "ErrorMessage": None})
        return {"Results": out}

    def h_DeleteRecords(self, hdr, body, v):
        return {"Topics": [{"Name": t["Name"], "Partitions": [
            {"PartitionIndex": p["PartitionIndex"], "LowWatermark": max(p["Offset"], 0), "ErrorCode": 0}
            for p in t["Partitions"]]} for t in body["Topics"]]}

    def h_DescribeConfigs(self, hdr, body, v):
        out = []
        for r in body["Resources"]:
            cfgs = []
            if r["ResourceType"] == 2:  # topic
                t = self.topics.get(r["ResourceName"])
                vals = {"cleanup.policy": "delete", "retention.ms": "604800000"}
                if t:
                    vals.update(t.configs)
            else:
                vals = {"num.partitions": "1", "log.retention.hours": "168"}
            for k, val in sorted(vals.items()):
                if r["ConfigurationKeys"] is not None and k not in r["ConfigurationKeys"]:
                    continue
                cfgs.append({"Name": k, "Value": val, "ReadOnly": False, "IsDefault": True,
                             "ConfigSource": 5, "IsSensitive": False, "Synonyms": [],
                             "ConfigType": 0, "Documentation": None})
            out.append({"ErrorCode": 0, "ErrorMessage": None, "ResourceType": r["ResourceType"],
                        "ResourceName": r["ResourceName"], "Configs": cfgs})
        return {"Results": out}

    def _alter_configs(self, body):
        return {"Responses": [{"ErrorCode": 0, "ErrorMessage": None, "ResourceType": r["ResourceType"],
                               "ResourceName": r["ResourceName"]} for r in body["Resources"]]}

    def h_AlterConfigs(self, hdr, body, v):
        return self._alter_configs(body)

    def h_IncrementalAlterConfigs(self, hdr, body, v):
        return self._alter_configs(body)

    def h_DescribeCluster(self, hdr, body, v):
        n = self.node()
        return {"ErrorCode": 0, "EndpointType": body.get("EndpointType", 1),
                "ClusterId": self.cluster_id, "ControllerId": 0,
                "Brokers": [{"BrokerId": 0, "Host": n["Host"], "Port": n["Port"], "Rack": None}],
                "ClusterAuthorizedOperations": -2147483648}

    def h_ListGroups(self, hdr, body, v):
        return {"ErrorCode": 0, "Groups": [
            {"GroupId": g.id, "ProtocolType": g.protocol_type, "GroupState": g.state,
             "GroupType": "classic"} for g in self.groups.values()]}

    def h_DescribeGroups(self, hdr, body, v):
        out = []
        for gid in body["Groups"]:
            g = self.groups.get(gid)
            if g is None:
                out.append({"ErrorCode": 0, "GroupId": gid, "GroupState": "Dead",
                            "ProtocolType": "", "ProtocolData": "", "Members": []})
                continue
            out.append({"ErrorCode": 0, "GroupId": gid, "GroupState": g.state,
                        "ProtocolType": g.protocol_type, "ProtocolData": g.protocol or "",
                        "Members": [{"MemberId": m, "GroupInstanceId": d["instance"],
                                     "ClientId": d["client_id"], "ClientHost": d["host"],
                                     "MemberMetadata": d["metadata"],
                                     "MemberAssignment": d["assignment"]}
                                    for m, d in g.members.items()]})
        return {"Groups": out}

    def h_DeleteGroups(self, hdr, body, v):
        for gid in body["GroupsNames"]:
            self.groups.pop(gid, None)
        return {"Results": [{"GroupId": gid, "ErrorCode": 0} for gid in body["GroupsNames"]]}

    def h_CreateAcls(self, hdr, body, v):
        return {"Results": [{"ErrorCode": 0, "ErrorMessage": None} for _ in body["Creations"]]}

    def h_DeleteAcls(self, hdr, body, v):
        return {"FilterResults": [{"ErrorCode": 0, "ErrorMessage": None, "MatchingAcls": []}
                                  for _ in body["Filters"]]}

    def h_DescribeAcls(self, hdr, body, v):
        return {"ErrorCode": 0, "ErrorMessage": None, "Resources": []}

    def h_ElectLeaders(self, hdr, body, v):
        return {"ErrorCode": 0, "ReplicaElectionResults": [
            {"Topic": t["Topic"], "PartitionResult": [
                {"PartitionId": p, "ErrorCode": 84, "ErrorMessage": None} for p in t["Partitions"]]}
            for t in (body["TopicPartitions"] or [])]}

    def h_DescribeUserScramCredentials(self, hdr, body, v):
        return {"ErrorCode": 0, "ErrorMessage": None, "Results": [
            {"User": u["Name"], "ErrorCode": 91, "ErrorMessage": "no credentials", "CredentialInfos": []}
            for u in (body.get("Users") or [])]}

    def h_GetTelemetrySubscriptions(self, hdr, body, v):
        cid = body.get("ClientInstanceId") or b"\0" * 16
        if cid == b"\0" * 16:
            cid = hashlib.md5(("instance/%s" % hdr["client_id"]).encode()).digest()
        return {"ErrorCode": 0, "ClientInstanceId": cid, "SubscriptionId": 1,
                "AcceptedCompressionTypes": [], "PushIntervalMs": 300000,
                "TelemetryMaxBytes": 1048576, "DeltaTemporality": True, "RequestedMetrics": []}

    def h_PushTelemetry(self, hdr, body, v):
        return {"ErrorCode": 0}

    def h_DescribeTopicPartitions(self, hdr, body, v):
        out = []
        for rt in body["Topics"]:
            t = self.topics.get(rt["Name"])
            if t is None:
                out.append({"ErrorCode": 3, "Name": rt["Name"], "Partitions": []})
                continue
            out.append({"ErrorCode": 0, "Name": t.name, "TopicId": t.id, "Partitions": [
                {"ErrorCode": 0, "PartitionIndex": i, "LeaderId": 0, "LeaderEpoch": 0,
                 "ReplicaNodes": [0], "IsrNodes": [0], "OfflineReplicas": []}
                for i in range(len(t.partitions))]})
        return {"Topics": out}

    def h_ConsumerGroupHeartbeat(self, hdr, body, v):
        g = self.group(body["GroupId"])
        mid = body["MemberId"] or "%s-%08d" % (hdr["client_id"] or "member", self._next_member())
        if body["MemberEpoch"] == -1 or body["MemberEpoch"] == -2:  # leaving
            g.members.pop(mid, None)
            return {"ErrorCode": 0, "MemberId": mid, "MemberEpoch": body["MemberEpoch"],
                    "HeartbeatIntervalMs": 1000}
        g.protocol_type = "consumer"
        g.kip848 = True
        g.state = "Stable"
        if mid not in g.members:
            g.generation += 1
            g.members[mid] = {"client_id": hdr["client_id"] or "", "host": "/127.0.0.1",
                              "metadata": b"", "instance": body.get("InstanceId"), "assignment": b"",
                              "topics": body.get("SubscribedTopicNames") or []}
        m = g.members[mid]
        if body.get("SubscribedTopicNames") is not None:
            m["topics"] = body["SubscribedTopicNames"]
        assignment = []
        for name in m["topics"]:
            t = self.topic(name)
            if t is not None:
                assignment.append({"TopicId": t.id, "Partitions": list(range(len(t.partitions)))})
        return {"ErrorCode": 0, "MemberId": mid, "MemberEpoch": g.generation,
                "HeartbeatIntervalMs": 1000, "Assignment": {"TopicPartitions": assignment}}

    def h_ConsumerGroupDescribe(self, hdr, body, v):
        out = []
        for gid in body["GroupIds"]:
            g = self.groups.get(gid)
            if g is None or not g.kip848:
                out.append({"ErrorCode": 69, "ErrorMessage": "Group %s is not a consumer group." % gid,
                            "GroupId": gid, "GroupState": "Dead", "Members": []})
                continue
            members = []
            for m, d in g.members.items():
                tps = [{"TopicId": self.topics[n].id, "TopicName": n,
                        "Partitions": list(range(len(self.topics[n].partitions)))}
                       for n in d.get("topics", []) if n in self.topics]
                members.append({"MemberId": m, "InstanceId": d["instance"], "MemberEpoch": g.generation,
                                "ClientId": d["client_id"], "ClientHost": d["host"],
                                "SubscribedTopicNames": d.get("topics", []),
                                "Assignment": {"TopicPartitions": tps},
                                "TargetAssignment": {"TopicPartitions": tps}})
            out.append({"ErrorCode": 0, "GroupId": gid, "GroupState": g.state, "GroupEpoch": g.generation,
                        "AssignmentEpoch": g.generation, "AssignorName": "uniform", "Members": members})
        return {"Groups": out}

    def _next_member(self):
        self.member_seq += 1
        return self.member_seq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--spec-dir", default=kafka_codec.DEFAULT_SPEC_DIR)
    args = ap.parse_args()
    b = FakeBroker(kafka_codec.Codec(args.spec_dir), port=args.port, log=sys.stderr)
    port = b.start()
    print("fake broker on 127.0.0.1:%d" % port, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        b.stop()


if __name__ == "__main__":
    main()
