"""confluent-kafka (librdkafka) workloads run against the fake broker.

Usage: python3 client_confluent.py BOOTSTRAP MODE [options]
Each mode does one thing and exits; capture.py runs it with a timeout.
"""

import argparse
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException

import records_intent


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def hdrs(r):
    return [(k, v.encode()) for k, v in r["headers"]] or None


def enc(s):
    return None if s is None else s.encode()


def produce_records(p, topic, records):
    delivered = []

    def cb(err, msg):
        delivered.append(err)
        if err:
            log("delivery error", err)

    # Warm up metadata and the connection first, then give linger.ms time to
    # expire before flush(): flush() sends immediately whatever is queued, and
    # all five records must go out in a single batch.
    p.list_topics(topic, timeout=10)
    for r in records:
        p.produce(topic, value=enc(r["value"]), key=enc(r["key"]), partition=0,
                  timestamp=r["timestamp"] or 0, headers=hdrs(r), on_delivery=cb)
    p.poll(0.5)
    left = p.flush(15)
    log("flush left", left, "delivered", len(delivered))


def mode_metadata(a):
    from confluent_kafka.admin import AdminClient
    md = AdminClient({"bootstrap.servers": a.bootstrap}).list_topics(a.topic, timeout=10)
    log("topics", list(md.topics))


def mode_produce(a):
    conf = {"bootstrap.servers": a.bootstrap, "linger.ms": 200,
            "compression.type": a.codec, "acks": "all",
            "enable.idempotence": a.idempotent}
    p = Producer(conf)
    produce_records(p, a.topic, records_intent.standard_records())


def mode_transactional(a):
    conf = {"bootstrap.servers": a.bootstrap, "linger.ms": 200,
            "compression.type": a.codec, "transactional.id": a.txn_id}
    p = Producer(conf)
    p.init_transactions(15)
    p.begin_transaction()
    p.list_topics(a.topic, timeout=10)
    for r in records_intent.standard_records():
        p.produce(a.topic, value=enc(r["value"]), key=enc(r["key"]), partition=0,
                  timestamp=r["timestamp"], headers=hdrs(r))
    p.poll(0.5)
    p.flush(15)
    # offsets of a (pretend) consume-transform-produce loop
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group})
    p.send_offsets_to_transaction([TopicPartition(a.topic, 0, 5)],
                                  c.consumer_group_metadata(), 15)
    p.commit_transaction(15)
    log("committed")
    # a second transaction that is aborted
    p.begin_transaction()
    p.produce(a.topic + "-aborted", value=b"aborted-0", key=b"key-0", partition=0,
              timestamp=records_intent.BASE_TIMESTAMP)
    p.flush(15)
    p.abort_transaction(15)
    log("aborted")
    c.close()


def mode_consume(a):
    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group,
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
            "fetch.wait.max.ms": 200}
    if a.group_protocol:
        conf["group.protocol"] = a.group_protocol
        for k in ("session.timeout.ms", "heartbeat.interval.ms"):
            conf.pop(k)
    if a.debug:
        conf["debug"] = a.debug
    c = Consumer(conf)
    c.subscribe([a.topic])
    got = 0
    deadline = time.time() + 20
    while got < a.count and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            log("consume error", m.error())
            continue
        got += 1
    log("consumed", got)
    c.commit(asynchronous=False)
    log("committed")
    time.sleep(1.5)  # let a few heartbeats go out
    c.close()


def mode_offsets(a):
    """Low-level consumer: watermarks, offsets_for_times, assign + fetch."""
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                  "enable.auto.commit": False, "fetch.wait.max.ms": 200})
    log("watermarks", c.get_watermark_offsets(TopicPartition(a.topic, 0), timeout=10, cached=False))
    log("for_times", c.offsets_for_times([TopicPartition(a.topic, 0, records_intent.BASE_TIMESTAMP + 2)], 10))
    log("committed", c.committed([TopicPartition(a.topic, 0)], 10))
    c.assign([TopicPartition(a.topic, 0, 1)])
    deadline = time.time() + 10
    got = 0
    while got < 2 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
    log("consumed", got)
    c.close()


def mode_admin(a):
    from confluent_kafka.admin import (AdminClient, NewTopic, NewPartitions, ConfigResource,
                                       ConfigEntry, AlterConfigOpType, AclBinding,
                                       AclBindingFilter, ResourceType, ResourcePatternType,
                                       AclOperation, AclPermissionType, OffsetSpec)
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection, ElectionType
    ad = AdminClient({"bootstrap.servers": a.bootstrap})
    t = a.topic
    steps = [
        ("create_topics", lambda: ad.create_topics(
            [NewTopic(t, num_partitions=3, replication_factor=1,
                      config={"cleanup.policy": "compact"})], operation_timeout=5)),
        ("list_topics", lambda: ad.list_topics(timeout=5)),
        ("describe_topics", lambda: ad.describe_topics(TopicCollection([t]))),
        ("describe_cluster", lambda: ad.describe_cluster()),
        ("describe_configs", lambda: ad.describe_configs(
            [ConfigResource(ResourceType.TOPIC, t)])),
        ("alter_configs", lambda: ad.alter_configs(
            [ConfigResource(ResourceType.TOPIC, t, set_config={"retention.ms": "3600000"})])),
        ("incremental_alter_configs", lambda: ad.incremental_alter_configs(
            [ConfigResource(ResourceType.TOPIC, t, incremental_configs=[
                ConfigEntry("retention.ms", "7200000",
                            incremental_operation=AlterConfigOpType.SET)])])),
        ("create_partitions", lambda: ad.create_partitions([NewPartitions(t, 4)])),
        ("list_offsets", lambda: ad.list_offsets(
            {TopicPartition(t, 0): OffsetSpec.latest(), TopicPartition(t, 1): OffsetSpec.earliest()})),
        ("delete_records", lambda: ad.delete_records([TopicPartition(t, 0, 0)])),
        ("list_consumer_groups", lambda: ad.list_consumer_groups()),
        ("describe_consumer_groups", lambda: ad.describe_consumer_groups([a.group])),
        ("list_consumer_group_offsets", lambda: ad.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(a.group)])),
        ("alter_consumer_group_offsets", lambda: ad.alter_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(a.group, [TopicPartition(t, 0, 3)])])),
        ("delete_consumer_groups", lambda: ad.delete_consumer_groups([a.group + "-x"])),
        ("create_acls", lambda: ad.create_acls([AclBinding(
            ResourceType.TOPIC, t, ResourcePatternType.LITERAL, "User:alice", "*",
            AclOperation.READ, AclPermissionType.ALLOW)])),
        ("describe_acls", lambda: ad.describe_acls(AclBindingFilter(
            ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
            AclOperation.ANY, AclPermissionType.ANY))),
        ("delete_acls", lambda: ad.delete_acls([AclBindingFilter(
            ResourceType.TOPIC, t, ResourcePatternType.LITERAL, "User:alice", "*",
            AclOperation.READ, AclPermissionType.ALLOW)])),
        ("describe_user_scram_credentials", lambda: ad.describe_user_scram_credentials(["alice"])),
        ("elect_leaders", lambda: ad.elect_leaders(ElectionType.PREFERRED, [TopicPartition(t, 0)])),
        ("delete_topics", lambda: ad.delete_topics([t], operation_timeout=5)),
    ]
    for name, fn in steps:
        try:
            res = fn()
            futs = res.values() if isinstance(res, dict) else [res] if hasattr(res, "result") else []
            for f in futs:
                try:
                    f.result(timeout=8)
                except Exception as e:  # the request is what we want
                    log(name, "error:", e)
            log(name, "ok")
        except Exception as e:
            log(name, "failed:", e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("mode")
    ap.add_argument("--topic", default="capture")
    ap.add_argument("--codec", default="none")
    ap.add_argument("--idempotent", action="store_true")
    ap.add_argument("--txn-id", default="capture-txn")
    ap.add_argument("--group", default="capture-group")
    ap.add_argument("--group-protocol", default=None)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--debug", default=None)
    a = ap.parse_args()
    assert a.bootstrap.startswith("127.0.0.1:")
    globals()["mode_" + a.mode](a)


if __name__ == "__main__":
    main()
