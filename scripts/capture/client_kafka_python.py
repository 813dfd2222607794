"""kafka-python workloads run against the fake broker.

Usage: python3 client_kafka_python.py BOOTSTRAP MODE [options]
Each mode does one thing and exits; capture.py runs it with a timeout.
"""

import argparse
import logging
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

import records_intent


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def enc(s):
    return None if s is None else s.encode()


def send_records(p, topic, records):
    p.partitions_for(topic)  # warm up metadata
    futs = []
    for r in records:
        futs.append(p.send(topic, value=enc(r["value"]), key=enc(r["key"]), partition=0,
                           timestamp_ms=r["timestamp"],
                           headers=[(k, v.encode()) for k, v in r["headers"]]))
    time.sleep(0.5)  # let linger_ms expire: flush() would send whatever is queued
    p.flush(15)
    for f in futs:
        try:
            f.get(timeout=5)
        except Exception as e:
            log("send error", e)


def mode_metadata(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, request_timeout_ms=10000)
    log("partitions", c.partitions_for_topic(a.topic))
    c.close()


def mode_produce(a):
    p = KafkaProducer(bootstrap_servers=a.bootstrap, linger_ms=200,
                      compression_type=None if a.codec == "none" else a.codec,
                      acks="all", enable_idempotence=a.idempotent)
    send_records(p, a.topic, records_intent.standard_records())
    p.close(timeout=5)
    log("produced")


def mode_transactional(a):
    p = KafkaProducer(bootstrap_servers=a.bootstrap, linger_ms=200,
                      compression_type=None if a.codec == "none" else a.codec,
                      transactional_id=a.txn_id)
    p.init_transactions()
    p.begin_transaction()
    send_records(p, a.topic, records_intent.standard_records())
    try:
        p.send_offsets_to_transaction({TopicPartition(a.topic, 0): OffsetAndMetadata(5, "", -1)}, a.group)
    except Exception as e:
        log("send_offsets_to_transaction failed", e)
    p.commit_transaction()
    log("committed")
    p.begin_transaction()
    p.send(a.topic + "-aborted", value=b"aborted-0", key=b"key-0", partition=0,
           timestamp_ms=records_intent.BASE_TIMESTAMP)
    p.flush(10)
    p.abort_transaction()
    log("aborted")
    p.close(timeout=5)


def mode_consume(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      heartbeat_interval_ms=500, session_timeout_ms=10000,
                      fetch_max_wait_ms=200)
    c.subscribe([a.topic])
    got = 0
    deadline = time.time() + 20
    while got < a.count and time.time() < deadline:
        for tp, msgs in c.poll(timeout_ms=500).items():
            got += len(msgs)
    log("consumed", got)
    c.commit()
    log("committed")
    end = time.time() + 1.5
    while time.time() < end:  # keep polling so heartbeats go out
        c.poll(timeout_ms=200)
    c.close()


def mode_offsets(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=None,
                      enable_auto_commit=False, fetch_max_wait_ms=200)
    tp = TopicPartition(a.topic, 0)
    log("beginning", c.beginning_offsets([tp]))
    log("end", c.end_offsets([tp]))
    log("for_times", c.offsets_for_times({tp: records_intent.BASE_TIMESTAMP + 2}))
    c.assign([tp])
    c.seek(tp, 1)
    got = 0
    deadline = time.time() + 10
    while got < 2 and time.time() < deadline:
        for _, msgs in c.poll(timeout_ms=500).items():
            got += len(msgs)
    log("consumed", got)
    c.close()


def mode_admin(a):
    from kafka.admin import (KafkaAdminClient, ConfigResource, ConfigResourceType, ACL,
                             ACLFilter, ACLOperation, ACLPermissionType, ResourcePattern,
                             ResourcePatternFilter, ResourceType, ACLResourcePatternType,
                             OffsetSpec)
    ad = KafkaAdminClient(bootstrap_servers=a.bootstrap, request_timeout_ms=5000)
    t = a.topic
    tp0 = TopicPartition(t, 0)
    steps = [
        ("create_topics", lambda: ad.create_topics(
            {t: {"num_partitions": 3, "replication_factor": 1,
                 "configs": {"cleanup.policy": "compact"}}})),
        ("list_topics", lambda: ad.list_topics()),
        ("describe_topics", lambda: ad.describe_topics([t])),
        ("describe_cluster", lambda: ad.describe_cluster()),
        ("describe_configs", lambda: ad.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t)], config_filter="all")),
        ("alter_configs", lambda: ad.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t, {"retention.ms": "3600000"})],
            raise_on_unknown=False)),
        ("alter_configs_legacy", lambda: ad.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t, {"retention.ms": "1800000"})],
            raise_on_unknown=False, incremental=False)),
        ("describe_topic_partitions", lambda: ad.describe_topic_partitions([t])),
        ("create_partitions", lambda: ad.create_partitions({t: 4})),
        ("list_partition_offsets", lambda: ad.list_partition_offsets(
            {tp0: OffsetSpec.LATEST, TopicPartition(t, 1): OffsetSpec.EARLIEST})),
        ("delete_records", lambda: ad.delete_records({tp0: 0})),
        ("list_groups", lambda: ad.list_groups()),
        ("describe_groups", lambda: ad.describe_groups([a.group])),
        ("list_group_offsets", lambda: ad.list_group_offsets({a.group: None})),
        ("alter_group_offsets", lambda: ad.alter_group_offsets(a.group, {tp0: OffsetAndMetadata(3, "", -1)})),
        ("delete_group_offsets", lambda: ad.delete_group_offsets(a.group, [tp0])),
        ("delete_groups", lambda: ad.delete_groups([a.group + "-x"])),
        ("create_acls", lambda: ad.create_acls([ACL(
            "User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType.TOPIC, t, ACLResourcePatternType.LITERAL))])),
        ("describe_acls", lambda: ad.describe_acls(ACLFilter(
            None, None, ACLOperation.ANY, ACLPermissionType.ANY,
            ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))),
        ("delete_acls", lambda: ad.delete_acls([ACLFilter(
            "User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
            ResourcePatternFilter(ResourceType.TOPIC, t, ACLResourcePatternType.LITERAL))])),
        ("describe_log_dirs", lambda: ad.describe_log_dirs()),
        ("describe_user_scram_credentials", lambda: ad.describe_user_scram_credentials(["alice"])),
        ("list_transactions", lambda: ad.list_transactions()),
        ("describe_transactions", lambda: ad.describe_transactions([a.txn_id])),
        ("describe_producers", lambda: ad.describe_producers([tp0])),
        ("delete_topics", lambda: ad.delete_topics([t])),
    ]
    for name, fn in steps:
        try:
            fn()
            log(name, "ok")
        except Exception as e:
            log(name, "failed:", repr(e)[:300])
    ad.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("mode")
    ap.add_argument("--topic", default="capture")
    ap.add_argument("--codec", default="none")
    ap.add_argument("--idempotent", action="store_true")
    ap.add_argument("--txn-id", default="capture-txn")
    ap.add_argument("--group", default="capture-group")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--debug", action="store_true")
    a = ap.parse_args()
    assert a.bootstrap.startswith("127.0.0.1:")
    logging.basicConfig(level=logging.DEBUG if a.debug else logging.WARNING)
    globals()["mode_" + a.mode](a)


if __name__ == "__main__":
    main()
