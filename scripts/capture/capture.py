#!/usr/bin/env python3
"""Capture the exact request bytes real Kafka clients send, as test fixtures.

For each client (kcat, confluent-kafka, kafka-python) this starts a fake
broker on 127.0.0.1 (ephemeral port), runs a fixed list of workloads against
it (each in a subprocess with a timeout), and then writes:

  Tests/BrookProtocolTests/Fixtures/requests/<client>/<NNN>-<Api>-v<ver>[-<label>].bin
      one request frame (no size prefix), first occurrence of each
      (api, version, label);
  Tests/BrookProtocolTests/Fixtures/requests/manifest.json
  Tests/BrookRecordsTests/Fixtures/captured/<client>-<codec>[-<label>].bin/.json
      the records bytes of partition 0 of each producer's first Produce
      request, and what the producer was asked to send.

Usage:  python3 scripts/capture/capture.py [--clients kcat,confluent-kafka,kafka-python]
        [--spec-dir DIR] [--out-root REPO] [--keep-logs DIR]
See scripts/capture/README.md.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fake_broker  # noqa: E402
import kafka_codec  # noqa: E402
import records_intent  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
STEP_TIMEOUT = 45


# ---------------------------------------------------------------- steps

class Step:
    def __init__(self, name, argv, stdin=None, timeout=STEP_TIMEOUT, produce=None, versions=None):
        self.name = name
        # versions: {api_name: (min, max)} advertised instead of the defaults
        # during this step only
        self.versions = versions or {}
        self.argv = argv          # may contain "{bootstrap}"
        self.stdin = stdin
        self.timeout = timeout
        # produce: dict(topic, codec, label, records, producer_id, producer_epoch,
        #               base_sequence, transactional) for the records fixture
        self.produce = produce


def no_pid():
    return {"producer_id": -1, "producer_epoch": -1, "base_sequence": -1, "transactional": False}


def with_pid(transactional=False):
    # the fake broker hands out producer id 1000, epoch 0 to the first
    # InitProducerId of each step (see run_client)
    return {"producer_id": 1000, "producer_epoch": 0, "base_sequence": 0,
            "transactional": transactional}


def kcat_steps():
    b = "{bootstrap}"
    recs = records_intent.kcat_records()
    data = records_intent.kcat_input(recs)
    base = ["kcat", "-b", b]
    steps = [
        Step("metadata-all", base + ["-L"]),
        Step("metadata-topic", base + ["-L", "-t", "kcat-metadata"]),
        Step("apiversions-fallback", base + ["-L", "-t", "kcat-metadata"],
             versions={"ApiVersions": (0, 2)}),
    ]
    for codec in CODECS:
        topic = "kcat-%s" % codec
        steps.append(Step("produce-" + codec,
                          base + ["-P", "-t", topic, "-p", "0", "-K", ":", "-Z", "-H", "h1=v1",
                                  "-X", "linger.ms=200", "-X", "compression.codec=" + codec],
                          stdin=data,
                          produce=dict(no_pid(), topic=topic, codec=codec, label="",
                                       records=recs)))
    steps += [
        Step("produce-idempotent",
             base + ["-P", "-t", "kcat-idempotent", "-p", "0", "-K", ":", "-Z", "-H", "h1=v1",
                     "-X", "linger.ms=200", "-X", "enable.idempotence=true"],
             stdin=data,
             produce=dict(with_pid(), topic="kcat-idempotent", codec="none", label="idempotent",
                          records=recs)),
        Step("produce-transactional",
             base + ["-P", "-t", "kcat-transactional", "-p", "0", "-K", ":", "-Z", "-H", "h1=v1",
                     "-X", "linger.ms=200", "-X", "transactional.id=kcat-txn"],
             stdin=data,
             produce=dict(with_pid(True), topic="kcat-transactional", codec="none",
                          label="transactional", records=recs)),
        Step("consume-group",
             base + ["-G", "kcat-group", "-X", "auto.offset.reset=earliest",
                     "-X", "fetch.wait.max.ms=200", "-c", "5", "-e", "kcat-none"]),
        Step("consume-simple",
             base + ["-C", "-t", "kcat-gzip", "-p", "0", "-o", "beginning", "-e",
                     "-X", "fetch.wait.max.ms=200"]),
        Step("query-offsets",
             base + ["-Q", "-t", "kcat-none:0:%d" % (records_intent.BASE_TIMESTAMP + 2)]),
    ]
    return steps


def py_steps(script):
    py = [sys.executable, os.path.join(HERE, script), "{bootstrap}"]
    recs = records_intent.standard_records()
    short = "ck" if "confluent" in script else "kp"
    steps = [Step("apiversions-fallback", py + ["metadata", "--topic", short + "-metadata"],
                  versions={"ApiVersions": (0, 2)})]
    steps += [Step("produce-" + c, py + ["produce", "--codec", c, "--topic", "%s-%s" % (short, c)],
                  produce=dict(no_pid(), topic="%s-%s" % (short, c), codec=c, label="", records=recs))
             for c in CODECS]
    steps += [
        Step("produce-idempotent",
             py + ["produce", "--codec", "none", "--idempotent", "--topic", short + "-idempotent"],
             produce=dict(with_pid(), topic=short + "-idempotent", codec="none", label="idempotent",
                          records=recs)),
        Step("produce-transactional",
             py + ["transactional", "--codec", "none", "--topic", short + "-transactional",
                   "--txn-id", short + "-txn", "--group", short + "-txn-group"],
             produce=dict(with_pid(True), topic=short + "-transactional", codec="none",
                          label="transactional", records=recs)),
        Step("consume-group", py + ["consume", "--topic", short + "-none", "--group", short + "-group"]),
    ]
    if short == "ck":
        steps.append(Step("consume-group-kip848",
                          py + ["consume", "--topic", short + "-gzip", "--group", short + "-group-848",
                                "--group-protocol", "consumer"]))
    steps += [
        Step("offsets", py + ["offsets", "--topic", short + "-none", "--group", short + "-group"]),
        Step("admin", py + ["admin", "--topic", short + "-admin", "--group", short + "-group"]),
    ]
    return steps


def client_version(client):
    if client == "kcat":
        out = subprocess.run(["kcat", "-V"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Version"):
                v = line.split()[1]
                lib = line.split("librdkafka ")[1].split()[0]
                return "kcat %s (librdkafka %s)" % (v, lib)
        return "kcat"
    if client == "confluent-kafka":
        import confluent_kafka
        v = confluent_kafka.version()
        v = v[0] if isinstance(v, tuple) else v
        return "confluent-kafka %s (librdkafka %s)" % (v,
                                                        confluent_kafka.libversion()[0])
    if client == "kafka-python":
        import kafka
        from kafka import codec as kc
        libs = [n for n, ok in (("python-snappy", kc.has_snappy()), ("lz4", kc.has_lz4()),
                                ("zstandard", kc.has_zstd())) if ok]
        return "kafka-python %s (codecs: gzip%s)" % (kafka.__version__,
                                                    "".join(", " + x for x in libs))
    raise KeyError(client)


CLIENTS = {
    "kcat": kcat_steps,
    "confluent-kafka": lambda: py_steps("client_confluent.py"),
    "kafka-python": lambda: py_steps("client_kafka_python.py"),
}


# ---------------------------------------------------------------- running

def run_step(step, port, logf):
    argv = [a.replace("{bootstrap}", "127.0.0.1:%d" % port) for a in step.argv]
    logf.write("\n### step %s: %s\n" % (step.name, " ".join(argv)))
    logf.flush()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if step.stdin is not None else subprocess.DEVNULL,
                         stdout=logf, stderr=logf, start_new_session=True, cwd=HERE)
    try:
        if step.stdin is not None:
            p.stdin.write(step.stdin)
            p.stdin.close()
        rc = p.wait(timeout=step.timeout)
    except subprocess.TimeoutExpired:
        rc = "timeout"
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    logf.write("### step %s exit %s\n" % (step.name, rc))
    logf.flush()
    return rc


def produce_problems(step, frames):
    """For a producer step: problems of the first Produce to the step's topic
    (e.g. the client split the five records over two requests)."""
    if not step.produce:
        return []
    for f in frames:
        if f["api_key"] == 0 and "body" in f:
            data = records_of_first_partition(f["body"], step.produce["topic"])
            if data is not None:
                return check_batch_against_intent(data, intent_json("?", step.produce))
    return ["no Produce request captured"]


def run_client(client, codec, logdir):
    logf = open(os.path.join(logdir, "%s.log" % client), "w")
    broker = fake_broker.FakeBroker(codec, log=logf)
    port = broker.start()
    logf.write("fake broker on 127.0.0.1:%d\n" % port)
    results = []
    try:
        default_versions = dict(broker.versions)
        for step in CLIENTS[client]():
            broker.next_pid = 1000
            broker.versions = dict(default_versions)
            for api, rng in step.versions.items():
                broker.versions[codec.api_key_of(api)] = rng
            for attempt in range(3):
                n0 = len(broker.frames)
                broker.next_pid = 1000
                rc = run_step(step, port, logf)
                time.sleep(0.3)
                with broker.lock:
                    frames = broker.frames[n0:]
                bad = produce_problems(step, frames)
                if not bad:
                    break
                logf.write("### step %s: %s; retrying\n" % (step.name, bad))
                print("  %-16s %-26s retry: %s" % (client, step.name, bad[:3]), flush=True)
            broker.versions = dict(default_versions)
            for f in frames:
                f["scenario"] = step.name
            results.append((step, rc, frames))
            print("  %-16s %-26s exit=%-7s requests=%d" % (client, step.name, rc, len(frames)),
                  flush=True)
    finally:
        broker.stop()
        logf.close()
    return results


# ---------------------------------------------------------------- labelling

def _timestamps_label(body):
    names = {-2: "earliest", -1: "latest", -3: "max-timestamp", -4: "earliest-local",
             -5: "latest-tiered"}
    kinds = set()
    for t in body["Topics"]:
        for p in t["Partitions"]:
            kinds.add(names.get(p["Timestamp"], "timestamp"))
    return "+".join(sorted(kinds))


def label_for(codec, f, step):
    name = codec.api_name(f["api_key"])
    body = f.get("body")
    if name == "ApiVersions":
        return ""  # one per version (the rejected first try of a fallback is a duplicate)
    if body is None:
        return f.get("note", "undecoded")
    v = f["api_version"]
    if name == "Produce":
        p = step.produce
        topics = [t["Name"] for t in body["TopicData"]]
        if p and p["topic"] in topics:
            return p["label"] or p["codec"]
        if any(t.endswith("-aborted") for t in topics):
            return "transactional-aborted"
        return "other"
    if name == "Metadata":
        ts = body["Topics"]
        if ts is None:
            return "all-topics"
        if not ts:
            return "no-topics"
        if all(t.get("Name") for t in ts):
            return "topics"
        return "topic-ids"
    if name == "FindCoordinator":
        kt = body.get("KeyType", 0)
        return {0: "group", 1: "transaction", 2: "share"}.get(kt, "keytype%d" % kt)
    if name == "JoinGroup":
        return "rejoin" if body["MemberId"] else "initial"
    if name == "SyncGroup":
        return "leader" if body["Assignments"] else "follower"
    if name == "OffsetFetch":
        topics = body["Groups"][0]["Topics"] if v >= 8 else body["Topics"]
        return "all-partitions" if topics is None else "partitions"
    if name == "OffsetCommit":
        return "member" if body.get("MemberId") else "standalone"
    if name == "ListOffsets":
        return _timestamps_label(body)
    if name == "EndTxn":
        return "commit" if body["Committed"] else "abort"
    if name == "InitProducerId":
        return "transactional" if body.get("TransactionalId") else "idempotent"
    if name == "ConsumerGroupHeartbeat":
        e = body["MemberEpoch"]
        return {0: "join", -1: "leave", -2: "leave-static"}.get(e, "heartbeat")
    if name == "Fetch":
        return ""
    return ""


# ---------------------------------------------------------------- output

def records_of_first_partition(body, topic):
    for td in body["TopicData"]:
        if td["Name"] == topic:
            return td["PartitionData"][0]["Records"]
    return None


def intent_json(client, p):
    recs = [{"key": r["key"], "value": r["value"], "headers": r["headers"],
             "timestamp": r["timestamp"]} for r in p["records"]]
    return {
        "client": client,
        "codec": p["codec"],
        "batches": [{
            "producer_id": p["producer_id"],
            "producer_epoch": p["producer_epoch"],
            "base_sequence": p["base_sequence"],
            "transactional": p["transactional"],
            "records": recs,
        }],
    }


def check_batch_against_intent(data, intent):
    """Decodes the captured batch and compares it with the intent; returns
    a list of problems (empty if it matches)."""
    problems = []
    try:
        batches = kafka_codec.decode_record_batches(data)
    except Exception as e:
        return ["undecodable: %r" % e]
    if len(batches) != len(intent["batches"]):
        problems.append("batch count %d != %d" % (len(batches), len(intent["batches"])))
    for b, ib in zip(batches, intent["batches"]):
        if b["codec"] != intent["codec"]:
            problems.append("codec %s != %s" % (b["codec"], intent["codec"]))
        for k in ("producer_id", "producer_epoch", "base_sequence", "transactional"):
            if b[k] != ib[k]:
                problems.append("%s %s != %s" % (k, b[k], ib[k]))
        if len(b["records"]) != len(ib["records"]):
            problems.append("record count %d != %d" % (len(b["records"]), len(ib["records"])))
        for i, (r, ir) in enumerate(zip(b["records"], ib["records"])):
            def s(x):
                return None if x is None else x.decode()
            got = {"key": s(r["key"]), "value": s(r["value"]),
                   "headers": [[k, s(v)] for k, v in r["headers"]]}
            want = {"key": ir["key"], "value": ir["value"], "headers": ir["headers"]}
            if got != want:
                problems.append("record %d: %r != %r" % (i, got, want))
            if ir["timestamp"] is not None and r["timestamp"] != ir["timestamp"]:
                problems.append("record %d timestamp %d != %d" % (i, r["timestamp"], ir["timestamp"]))
        body = data[21:12 + struct_len(data)]
        if kafka_codec.crc32c(body) != b["crc"]:
            problems.append("crc mismatch")
    return problems


def struct_len(data):
    import struct
    return struct.unpack_from(">i", data, 8)[0]


def write_outputs(client, version, results, codec, out_root, manifest, problems):
    req_dir = os.path.join(out_root, "Tests", "BrookProtocolTests", "Fixtures", "requests", client)
    rec_dir = os.path.join(out_root, "Tests", "BrookRecordsTests", "Fixtures", "captured")
    if os.path.isdir(req_dir):
        shutil.rmtree(req_dir)
    os.makedirs(req_dir)
    os.makedirs(rec_dir, exist_ok=True)
    for fn in os.listdir(rec_dir):
        if fn.startswith(client + "-"):
            os.remove(os.path.join(rec_dir, fn))
    seen = set()
    n = 0
    for step, rc, frames in results:
        if rc != 0:
            problems.append("%s %s exited %s" % (client, step.name, rc))
        produce_written = False
        for f in frames:
            name = codec.api_name(f["api_key"])
            label = label_for(codec, f, step)
            key = (f["api_key"], f["api_version"], label)
            if key in seen:
                continue
            seen.add(key)
            n += 1
            fname = "%03d-%s-v%d%s.bin" % (n, name, f["api_version"], "-" + label if label else "")
            with open(os.path.join(req_dir, fname), "wb") as fh:
                fh.write(f["data"])
            hdr, hv, _, trailing = codec.decode_request(f["data"])
            if trailing:
                problems.append("%s/%s: %d bytes after the body (kept; see manifest)"
                                % (client, fname, trailing))
            manifest.append({
                "client": client, "client_version": version, "api_key": f["api_key"],
                "api_name": name, "api_version": f["api_version"], "header_version": hv,
                "label": label, "file": "%s/%s" % (client, fname),
                "correlation_id": hdr["correlation_id"], "client_id": hdr["client_id"],
                "scenario": step.name, "trailing_bytes": trailing,
            })
        # the records fixture: first Produce of the step to the step's topic
        if step.produce and not produce_written:
            p = step.produce
            for f in frames:
                if f["api_key"] == 0 and "body" in f:
                    data = records_of_first_partition(f["body"], p["topic"])
                    if data is None:
                        continue
                    base = "%s-%s%s" % (client, p["codec"], "-" + p["label"] if p["label"] else "")
                    intent = intent_json(client, p)
                    with open(os.path.join(rec_dir, base + ".bin"), "wb") as fh:
                        fh.write(data)
                    with open(os.path.join(rec_dir, base + ".json"), "w") as fh:
                        json.dump(intent, fh, indent=2)
                        fh.write("\n")
                    for pr in check_batch_against_intent(data, intent):
                        problems.append("%s: %s" % (base, pr))
                    produce_written = True
                    break
            if not produce_written:
                problems.append("%s %s: no Produce request captured" % (client, step.name))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--spec-dir", default=kafka_codec.DEFAULT_SPEC_DIR)
    ap.add_argument("--out-root", default=REPO)
    ap.add_argument("--keep-logs", default=None, help="directory for client/broker logs")
    args = ap.parse_args()
    codec = kafka_codec.Codec(args.spec_dir)
    logdir = args.keep_logs or os.path.join("/tmp", "brook-capture-logs")
    os.makedirs(logdir, exist_ok=True)
    manifest_path = os.path.join(args.out_root, "Tests", "BrookProtocolTests", "Fixtures",
                                 "requests", "manifest.json")
    clients = [c for c in args.clients.split(",") if c]
    manifest = []
    if os.path.exists(manifest_path):  # keep entries of clients not re-captured
        with open(manifest_path) as fh:
            manifest = [e for e in json.load(fh) if e["client"] not in clients]
    problems = []
    for client in clients:
        version = client_version(client)
        print("capturing %s: %s" % (client, version), flush=True)
        results = run_client(client, codec, logdir)
        write_outputs(client, version, results, codec, args.out_root, manifest, problems)
    order = {c: i for i, c in enumerate(CLIENTS)}
    manifest.sort(key=lambda e: (order.get(e["client"], 99), e["file"]))
    os.makedirs(os.path.dirname(manifest_path), exist_ok=True)
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    print("wrote %d request fixtures; logs in %s" % (len(manifest), logdir))
    notes = [p for p in problems if "bytes after the body" in p]
    problems = [p for p in problems if p not in notes]
    for p in notes:
        print("note: " + p)
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
