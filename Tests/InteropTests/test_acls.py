"""ACLs (issue 17): Brook's authorizer with Kafka's model and semantics, driven by real clients over
SASL/PLAIN. A principal without the ACL gets the right authorization error and nothing changes;
with it, it succeeds; DENY beats ALLOW; prefixed patterns match as Kafka's do; the ACLs live in
the metadata log and survive a restart; `brook acls` adds, lists and removes them."""
import struct

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                   ConfigResource, NewPartitions, NewTopic, ResourcePatternType, ResourceType)
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePatternFilter
from kafka.admin import ResourceType as KafkaPythonResourceType
from kafka.errors import ClusterAuthorizationFailedError, SecurityDisabledError, TopicAuthorizationFailedError

import kafka_wire
from cli_support import brook, failed_with, succeeded
from conftest import BrokerProcess, wait_until
from quorum_support import quorum_factory  # noqa: F401  (fixture)
from records_support import TIMEOUT
from test_scram import sasl_bootstrap

JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";')
AUTHORIZER = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def acl_broker(broker_factory, *extra: str) -> tuple[BrokerProcess, str]:
    broker = broker_factory(
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={JAAS}", AUTHORIZER, "super.users=User:admin",
        "group.initial.rebalance.delay.ms=0", *extra)
    return broker, sasl_bootstrap(broker)


def as_user(user: str) -> dict:
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": user,
            "sasl.password": f"{user}-secret"}


def admin(bootstrap: str, user: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, **as_user(user)})


def allow(principal: str, resource: ResourceType, name: str, operation: AclOperation,
          pattern: ResourcePatternType = ResourcePatternType.LITERAL,
          permission: AclPermissionType = AclPermissionType.ALLOW) -> AclBinding:
    return AclBinding(resource, name, pattern, principal, "*", operation, permission)


def kafka_python_admin(bootstrap: str, user: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                            sasl_plain_username=user, sasl_plain_password=f"{user}-secret")


def everything_filter() -> ACLFilter:
    return ACLFilter(principal=None, host="*", operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                     resource_pattern=ResourcePatternFilter(KafkaPythonResourceType.ANY, None, ACLResourcePatternType.ANY))


def grant(bootstrap: str, *bindings: AclBinding) -> None:
    client = admin(bootstrap, "admin")  # kept until the futures are done: its handle answers them
    for future in client.create_acls(list(bindings)).values():
        future.result(timeout=TIMEOUT)


def create_topics(bootstrap: str, *names: str) -> None:
    client = admin(bootstrap, "admin")
    for future in client.create_topics([NewTopic(name, 2, 1) for name in names]).values():
        future.result(timeout=TIMEOUT)


def error_code(future) -> int:
    with pytest.raises(KafkaException) as raised:
        future.result(timeout=TIMEOUT)
    return raised.value.args[0].code()


def produce(bootstrap: str, user: str, topic: str, count: int) -> list:
    """Produces `count` records; returns the delivery errors (None for each success)."""
    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, "message.timeout.ms": 10000, **as_user(user)})
    for i in range(count):
        producer.produce(topic, value=f"v{i}".encode(), on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(TIMEOUT)
    return errors


def consume(bootstrap: str, user: str, topic: str, group: str, count: int, **extra) -> tuple[list, KafkaError | None]:
    """Reads up to `count` records in `group`; returns them and the first error."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         **as_user(user), **extra})
    consumer.subscribe([topic])
    values, failure = [], []

    def done() -> bool:
        message = consumer.poll(0.2)
        if message is not None:
            if message.error():
                failure.append(message.error())
            else:
                values.append(message.value())
        return len(values) >= count or bool(failure)

    wait_until(done, timeout=TIMEOUT, interval=0, message=f"{count} records or an error")
    consumer.close()
    return values, failure[0] if failure else None


def test_topics_are_hidden_and_produce_and_consume_need_their_acls(broker_factory):
    _, bootstrap = acl_broker(broker_factory)
    create_topics(bootstrap, "orders", "hidden")
    # Alice has no ACL: Metadata lists nothing, her records are refused.
    assert not {"orders", "hidden"} & set(admin(bootstrap, "alice").list_topics(timeout=TIMEOUT).topics)
    errors = produce(bootstrap, "alice", "orders", 3)
    assert errors and all(e is not None and e.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED for e in errors), errors

    # Bob is a producer and a consumer of orders, in group g.
    grant(bootstrap, *(allow("User:bob", ResourceType.TOPIC, "orders", op)
                       for op in (AclOperation.WRITE, AclOperation.READ, AclOperation.DESCRIBE)),
          allow("User:bob", ResourceType.GROUP, "g", AclOperation.READ))
    bob_sees = set(admin(bootstrap, "bob").list_topics(timeout=TIMEOUT).topics)
    assert "orders" in bob_sees and "hidden" not in bob_sees
    assert produce(bootstrap, "bob", "orders", 100) == [None] * 100
    values, failure = consume(bootstrap, "bob", "orders", "g", 100)
    assert failure is None and sorted(values) == sorted(f"v{i}".encode() for i in range(100))
    # Another group is refused.
    _, failure = consume(bootstrap, "bob", "orders", "other", 1)
    assert failure is not None and failure.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, failure
    # Alice still gets nothing.
    _, failure = consume(bootstrap, "alice", "orders", "g", 1)
    assert failure is not None and failure.code() in (KafkaError.GROUP_AUTHORIZATION_FAILED,
                                                      KafkaError.TOPIC_AUTHORIZATION_FAILED), failure


def test_deny_beats_allow_and_prefixed_patterns_match(broker_factory):
    _, bootstrap = acl_broker(broker_factory)
    create_topics(bootstrap, "orders-open", "orders-secret", "ordersx")
    grant(bootstrap,
          allow("User:bob", ResourceType.TOPIC, "orders-", AclOperation.ALL, ResourcePatternType.PREFIXED),
          allow("User:bob", ResourceType.TOPIC, "orders-secret", AclOperation.READ, permission=AclPermissionType.DENY),
          allow("User:*", ResourceType.GROUP, "*", AclOperation.READ))
    assert produce(bootstrap, "bob", "orders-open", 5) == [None] * 5
    assert produce(bootstrap, "bob", "orders-secret", 5) == [None] * 5  # WRITE is not denied
    values, failure = consume(bootstrap, "bob", "orders-open", "g1", 5)
    assert failure is None and len(values) == 5
    _, failure = consume(bootstrap, "bob", "orders-secret", "g2", 1)
    assert failure is not None and failure.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, failure
    # "ordersx" does not start with "orders-".
    topics = admin(bootstrap, "bob").list_topics(timeout=TIMEOUT).topics
    assert "orders-open" in topics and "orders-secret" in topics and "ordersx" not in topics


def test_admin_apis_answer_authorization_errors_until_granted(broker_factory):
    _, bootstrap = acl_broker(broker_factory)
    create_topics(bootstrap, "t")
    alice = admin(bootstrap, "alice")
    assert error_code(alice.create_topics([NewTopic("new", 1, 1)])["new"]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert error_code(alice.delete_topics(["t"])["t"]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert error_code(alice.create_partitions([NewPartitions("t", 3)])["t"]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    topic = ConfigResource(ResourceType.TOPIC, "t")
    assert error_code(alice.describe_configs([topic])[topic]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    broker = ConfigResource(ResourceType.BROKER, "1")
    assert error_code(alice.describe_configs([broker])[broker]) == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    assert error_code(alice.create_acls([allow("User:alice", ResourceType.TOPIC, "t", AclOperation.ALL)])[
        allow("User:alice", ResourceType.TOPIC, "t", AclOperation.ALL)]) == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    # (librdkafka drops DescribeAcls' top-level error, so kafka-python asks.)
    with pytest.raises(ClusterAuthorizationFailedError):
        kafka_python_admin(bootstrap, "alice").describe_acls(everything_filter())
    assert error_code(alice.describe_consumer_groups(["g"])["g"]) == KafkaError.GROUP_AUTHORIZATION_FAILED
    # Nothing changed.
    assert admin(bootstrap, "admin").list_topics(timeout=TIMEOUT).topics["t"].partitions.keys() == {0, 1}

    # With CREATE on the cluster, and ALTER, DELETE and DESCRIBE_CONFIGS on the topic, each works.
    grant(bootstrap, allow("User:alice", ResourceType.BROKER, "kafka-cluster", AclOperation.CREATE),
          *(allow("User:alice", ResourceType.TOPIC, "t", op)
            for op in (AclOperation.ALTER, AclOperation.DELETE, AclOperation.DESCRIBE_CONFIGS)))
    alice.create_topics([NewTopic("new", 1, 1)])["new"].result(timeout=TIMEOUT)
    # DescribeCluster reports the cluster operations she may do.
    cluster = alice.describe_cluster(include_authorized_operations=True).result(timeout=TIMEOUT)
    assert cluster.authorized_operations == [AclOperation.CREATE]
    described = alice.describe_topics(TopicCollection(["t"]), include_authorized_operations=True)["t"].result(timeout=TIMEOUT)
    assert set(described.authorized_operations) == {
        AclOperation.ALTER, AclOperation.DELETE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS}
    alice.create_partitions([NewPartitions("t", 3)])["t"].result(timeout=TIMEOUT)
    assert alice.describe_configs([topic])[topic].result(timeout=TIMEOUT)
    alice.delete_topics(["t"])["t"].result(timeout=TIMEOUT)


def test_transactions_need_the_transactional_id(broker_factory):
    _, bootstrap = acl_broker(broker_factory)
    create_topics(bootstrap, "tx-topic")
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "tx-1", **as_user("alice")})
    with pytest.raises(KafkaException) as raised:
        producer.init_transactions(10)
    assert raised.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    grant(bootstrap, allow("User:alice", ResourceType.TRANSACTIONAL_ID, "tx-", AclOperation.WRITE, ResourcePatternType.PREFIXED),
          allow("User:alice", ResourceType.TOPIC, "tx-topic", AclOperation.WRITE),
          allow("User:alice", ResourceType.TOPIC, "tx-topic", AclOperation.READ),
          allow("User:alice", ResourceType.GROUP, "tx-readers", AclOperation.READ))
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "tx-1", **as_user("alice")})
    producer.init_transactions(TIMEOUT)
    producer.begin_transaction()
    for i in range(10):
        producer.produce("tx-topic", value=f"t{i}".encode())
    producer.commit_transaction(TIMEOUT)
    values, failure = consume(bootstrap, "alice", "tx-topic", "tx-readers", 10, **{"isolation.level": "read_committed"})
    assert failure is None and len(values) == 10


def test_acls_are_described_and_deleted_with_filters_and_survive_a_restart(broker_factory):
    broker, bootstrap = acl_broker(broker_factory)
    grant(bootstrap, allow("User:bob", ResourceType.TOPIC, "a", AclOperation.READ),
          allow("User:bob", ResourceType.TOPIC, "ab", AclOperation.READ, ResourcePatternType.PREFIXED),
          allow("User:carol", ResourceType.GROUP, "g", AclOperation.READ))
    everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                                  AclPermissionType.ANY)
    root = admin(bootstrap, "admin")
    assert len(root.describe_acls(everything).result(timeout=TIMEOUT)) == 3
    # MATCH: the ACLs that apply to topic "abc" — the prefixed "ab" only.
    matching = root.describe_acls(AclBindingFilter(
        ResourceType.TOPIC, "abc", ResourcePatternType.MATCH, None, None, AclOperation.ANY, AclPermissionType.ANY)
    ).result(timeout=TIMEOUT)
    assert [(b.name, b.resource_pattern_type) for b in matching] == [("ab", ResourcePatternType.PREFIXED)]

    broker.restart()
    root = admin(sasl_bootstrap(broker), "admin")
    assert len(root.describe_acls(everything).result(timeout=TIMEOUT)) == 3
    deleted = root.delete_acls([AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, "User:bob", None, AclOperation.ANY, AclPermissionType.ANY)])
    assert len(list(deleted.values())[0].result(timeout=TIMEOUT)) == 2
    remaining = root.describe_acls(everything).result(timeout=TIMEOUT)
    assert [(b.principal, b.name) for b in remaining] == [("User:carol", "g")]


def test_kafka_python_gets_topic_authorization_failed(broker_factory):
    _, bootstrap = acl_broker(broker_factory)
    create_topics(bootstrap, "kp")
    producer = KafkaProducer(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                             sasl_plain_username="alice", sasl_plain_password="alice-secret", max_block_ms=5000)
    with pytest.raises(TopicAuthorizationFailedError):
        producer.send("kp", b"x").get(timeout=10)
    producer.close()


def test_brook_acls_adds_lists_and_removes(broker_factory):
    # The PLAINTEXT listener's clients are User:ANONYMOUS; a super user here, so the tool can run.
    broker, bootstrap = acl_broker(broker_factory, "super.users=User:admin;User:ANONYMOUS")
    server = broker.bootstrap
    out = succeeded(brook("acls", "add", "--bootstrap-server", server, "--allow-principal", "User:bob",
                          "--consumer", "--topic", "orders", "--group", "g"))
    assert "Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: " in out
    assert "(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)" in out
    succeeded(brook("acls", "add", "--bootstrap-server", server, "--deny-principal", "User:bob", "--operation", "Write",
                    "--topic", "logs-", "--resource-pattern-type", "prefixed"))
    listed = succeeded(brook("acls", "list", "--bootstrap-server", server))
    assert "Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)`: " in listed
    assert "ResourcePattern(resourceType=TOPIC, name=logs-, patternType=PREFIXED)" in listed
    assert "(principal=User:bob, host=*, operation=WRITE, permissionType=DENY)" in listed
    only_topic = succeeded(brook("acls", "list", "--bootstrap-server", server, "--topic", "orders"))
    assert "GROUP" not in only_topic and only_topic.count("principal=User:bob") == 2
    # Bob can now read orders in group g.
    create_topics(bootstrap, "orders")
    produce(bootstrap, "admin", "orders", 3)
    values, failure = consume(bootstrap, "bob", "orders", "g", 3)
    assert failure is None and len(values) == 3
    removed = succeeded(brook("acls", "remove", "--bootstrap-server", server, "--topic", "orders", "--force"))
    assert "Removed ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: " in removed
    assert "orders" not in succeeded(brook("acls", "list", "--bootstrap-server", server))
    failed_with(brook("acls", "add", "--bootstrap-server", server, "--allow-principal", "bob", "--topic", "x"), "Type:name")
    failed_with(brook("acls", "add", "--bootstrap-server", server, "--allow-principal", "User:bob", "--operation", "Fly",
                      "--topic", "x"), "Invalid operation Fly")


def test_without_an_authorizer_acl_requests_say_security_disabled(broker):
    with pytest.raises(SecurityDisabledError):
        KafkaAdminClient(bootstrap_servers=broker.bootstrap).describe_acls(everything_filter())
    failed_with(brook("acls", "list", "--bootstrap-server", broker.bootstrap), "SECURITY_DISABLED")


def sasl_plain_socket(bootstrap: str, user: str):
    """A raw connection to a SASL_PLAINTEXT listener, authenticated with SASL/PLAIN (v1 exchange)."""
    sock = kafka_wire.connect(bootstrap, timeout=10)
    sock.sendall(kafka_wire.request_frame(17, 1, 1, struct.pack(">h", 5) + b"PLAIN"))
    assert struct.unpack(">ih", kafka_wire.read_frame(sock)[:6]) == (1, 0)
    token = f"\0{user}\0{user}-secret".encode()
    sock.sendall(kafka_wire.request_frame(36, 1, 2, struct.pack(">i", len(token)) + token))
    assert struct.unpack(">ih", kafka_wire.read_frame(sock)[:6]) == (2, 0)
    return sock


def create_topic_raw(sock, name: str, correlation_id: int) -> int:
    """CreateTopics v2 for one topic (1 partition, replication 1) on `sock`; its error code."""
    topic = struct.pack(">h", len(name)) + name.encode() + struct.pack(">ihii", 1, 1, 0, 0)
    sock.sendall(kafka_wire.request_frame(19, 2, correlation_id, struct.pack(">i", 1) + topic + struct.pack(">ib", 30000, 0)))
    answer = kafka_wire.read_frame(sock)
    correlation, _throttle, count, length = struct.unpack(">iiih", answer[:14])
    assert correlation == correlation_id and count == 1
    (error,) = struct.unpack(">h", answer[14 + length:16 + length])
    return error


def test_a_cluster_authorizes_forwarded_admin_requests_as_their_client(quorum_factory):
    quorum = quorum_factory(3, start=False)
    for node in quorum.nodes.values():
        node.overrides += [
            f"listeners=PLAINTEXT://127.0.0.1:{node.port},SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
            f"listener.name.sasl_plaintext.plain.sasl.jaas.config={JAAS}", AUTHORIZER,
            # Brokers reach each other over PLAINTEXT as User:ANONYMOUS, which needs CLUSTER_ACTION.
            "super.users=User:admin;User:ANONYMOUS", "inter.broker.listener.name=PLAINTEXT"]
    quorum.start()
    leader, _ = quorum.wait_for_leader()
    quorum.wait_for_brokers(3)
    follower = next(node_id for node_id in quorum.nodes if node_id != leader)
    bootstrap = sasl_bootstrap(quorum.nodes[follower])
    # Sent to a broker that is not the controller, CreateTopics goes on in an Envelope: the
    # controller refuses alice, then, once she may create "a-" topics, creates hers only.
    with sasl_plain_socket(bootstrap, "alice") as sock:
        assert create_topic_raw(sock, "a-topic", 3) == KafkaError.TOPIC_AUTHORIZATION_FAILED
        grant(bootstrap, allow("User:alice", ResourceType.TOPIC, "a-", AclOperation.CREATE, ResourcePatternType.PREFIXED))
        assert create_topic_raw(sock, "a-topic", 4) == 0
        assert create_topic_raw(sock, "b-topic", 5) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    topics = admin(bootstrap, "admin").list_topics(timeout=TIMEOUT).topics
    assert "a-topic" in topics and "b-topic" not in topics
    assert any("is Denied operation = CREATE" in line and "User:alice" in line
               for line in quorum.nodes[leader].output), "the controller, not the follower, refused alice"
