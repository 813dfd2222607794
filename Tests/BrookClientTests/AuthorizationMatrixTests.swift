#if canImport(Glibc)
import Glibc
#endif
import BrookBroker
import BrookClient
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

/// The denial matrix (issue 17): every API a client can call, sent by a SASL user without any
/// ACL to a broker running Kafka's StandardAuthorizer, gets the authorization error Kafka
/// answers (or, for listings, does not see what it may not describe), and nothing changes;
/// once the user is allowed everything, no request is refused. The matrix must name every API
/// the broker advertises, so a new API cannot skip its check.
@Suite struct AuthorizationMatrixTests {
    static let topicDenied: Int16 = 29, groupDenied: Int16 = 30, clusterDenied: Int16 = 31, transactionDenied: Int16 = 53
    static let authorizationErrors: Set<Int16> = [topicDenied, groupDenied, clusterDenied, transactionDenied]

    /// What a probe expects of a user without ACLs.
    enum Denial: Sendable {
        /// The response carries this error code.
        case error(Int16)
        /// The response does not name the protected resource (a listing filtered by the authorizer).
        case hides(String)
        /// Nothing to protect: any client may call it.
        case open
    }

    struct Probe: Sendable {
        let api: ApiKey
        let denial: Denial
        /// Sent only without ACLs: allowed, it would disturb the cluster (the quorum's own requests).
        var deniedOnly = false
        let send: @Sendable (BrokerConnection) async throws -> (any KafkaResponse)
    }

    static let topic = "t-secret", doomed = "t-doomed", group = "g-secret", transactionalId = "tx-secret"

    static func probe<Request: KafkaRequest>(
        _ denial: Denial, version: Int16? = nil, _ request: Request
    ) -> Probe {
        Probe(api: Request.apiKey, denial: denial) { connection in try await connection.send(request, version: version) }
    }

    static func records() throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: "v"))
        return try builder.build()
    }

    /// One request per API, each naming the protected resources.
    static func probes() throws -> [Probe] {
        let topic = Self.topic, group = Self.group, txn = Self.transactionalId
        var produce = ProduceRequest(acks: 1, timeoutMs: 5_000)
        produce.topicData = [.init(name: topic, partitionData: [.init(index: 0, records: try records())])]
        var fetch = FetchRequest(maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        fetch.topics = [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        var initTransactional = InitProducerIdRequest(transactionalId: txn, transactionTimeoutMs: 60_000)
        initTransactional.producerId = -1
        var initIdempotent = InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000)
        initIdempotent.producerId = -1
        var addPartitions = AddPartitionsToTxnRequest()
        addPartitions.v3AndBelowTransactionalId = txn
        addPartitions.v3AndBelowProducerId = 1
        addPartitions.v3AndBelowTopics = [.init(name: topic, partitions: [0])]
        return [
            probe(.error(topicDenied), produce),
            probe(.error(topicDenied), version: 12, fetch),
            probe(.error(topicDenied), ListOffsetsRequest(topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: -1)])])),
            probe(.error(topicDenied), MetadataRequest(topics: [.init(name: topic)])),
            probe(.hides(topic), MetadataRequest(topics: nil)),
            probe(.error(groupDenied), OffsetCommitRequest(groupId: group, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 5)])])),
            probe(.error(groupDenied), version: 7, OffsetFetchRequest(groupId: group, topics: nil)),
            probe(.error(groupDenied), version: 3, FindCoordinatorRequest(key: group, keyType: 0)),
            probe(.error(transactionDenied), version: 3, FindCoordinatorRequest(key: txn, keyType: 1)),
            probe(.error(groupDenied), JoinGroupRequest(
                groupId: group, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "", protocolType: "consumer",
                protocols: [.init(name: "range", metadata: ByteBuffer())])),
            probe(.error(groupDenied), HeartbeatRequest(groupId: group, generationId: 1, memberId: "m")),
            probe(.error(groupDenied), LeaveGroupRequest(groupId: group, members: [.init(memberId: "m")])),
            probe(.error(groupDenied), SyncGroupRequest(groupId: group, generationId: 1, memberId: "m", protocolType: "consumer", protocolName: "range")),
            probe(.error(groupDenied), DescribeGroupsRequest(groups: [group])),
            probe(.hides(group), ListGroupsRequest()),
            probe(.error(topicDenied), CreateTopicsRequest(topics: [.init(name: "t-new", numPartitions: 1, replicationFactor: 1)], timeoutMs: 5_000)),
            probe(.error(topicDenied), DeleteTopicsRequest(topics: [.init(name: Self.doomed)], topicNames: [Self.doomed], timeoutMs: 5_000)),
            probe(.error(topicDenied), DeleteRecordsRequest(topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, offset: 1)])], timeoutMs: 5_000)),
            probe(.error(transactionDenied), initTransactional),
            probe(.error(clusterDenied), initIdempotent),
            probe(.error(topicDenied), OffsetForLeaderEpochRequest(topics: [.init(topic: topic, partitions: [.init(partition: 0, leaderEpoch: 0)])])),
            // Clients send v3 and below; v4+ is the brokers' batched form (CLUSTER_ACTION).
            probe(.error(transactionDenied), version: 3, addPartitions),
            probe(.error(transactionDenied), AddOffsetsToTxnRequest(transactionalId: txn, producerId: 1, producerEpoch: 0, groupId: group)),
            probe(.error(transactionDenied), EndTxnRequest(transactionalId: txn, producerId: 1, producerEpoch: 0, committed: true)),
            probe(.error(transactionDenied), TxnOffsetCommitRequest(
                transactionalId: txn, groupId: group, producerId: 1, producerEpoch: 0,
                topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 1)])])),
            probe(.error(clusterDenied), DescribeAclsRequest(resourceTypeFilter: 1, patternTypeFilter: 1, operation: 1, permissionType: 1)),
            probe(.error(clusterDenied), CreateAclsRequest(creations: [.init(
                resourceType: 2, resourceName: topic, resourcePatternType: 3, principal: "User:eve", host: "*", operation: 2, permissionType: 3)])),
            probe(.error(clusterDenied), DeleteAclsRequest(filters: [.init(
                resourceTypeFilter: 1, patternTypeFilter: 1, operation: 1, permissionType: 1)])),
            probe(.error(topicDenied), DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: nil)])),
            probe(.error(clusterDenied), DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "1", configurationKeys: nil)])),
            probe(.error(topicDenied), AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configs: [.init(name: "retention.ms", value: "1000")])])),
            probe(.error(topicDenied), IncrementalAlterConfigsRequest(resources: [.init(
                resourceType: 2, resourceName: topic, configs: [.init(name: "retention.ms", configOperation: 0, value: "1000")])])),
            probe(.error(clusterDenied), DescribeLogDirsRequest(topics: nil)),
            probe(.error(topicDenied), CreatePartitionsRequest(topics: [.init(name: topic, count: 2, assignments: nil)], timeoutMs: 5_000)),
            probe(.error(groupDenied), DeleteGroupsRequest(groupsNames: [group])),
            probe(.error(clusterDenied), ElectLeadersRequest(electionType: 0, topicPartitions: nil, timeoutMs: 5_000)),
            probe(.error(clusterDenied), AlterPartitionReassignmentsRequest(
                timeoutMs: 5_000, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, replicas: [1])])])),
            probe(.error(clusterDenied), ListPartitionReassignmentsRequest(timeoutMs: 5_000, topics: nil)),
            probe(.error(groupDenied), OffsetDeleteRequest(groupId: group, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0)])])),
            probe(.error(clusterDenied), DescribeClientQuotasRequest(components: [])),
            probe(.error(clusterDenied), AlterClientQuotasRequest(entries: [.init(
                entity: [.init(entityType: "user", entityName: "eve")], ops: [.init(key: "producer_byte_rate", value: 1e9, remove: false)])])),
            probe(.error(clusterDenied), DescribeUserScramCredentialsRequest(users: nil)),
            probe(.error(clusterDenied), AlterUserScramCredentialsRequest(deletions: [.init(name: "admin", mechanism: 1)])),
            probe(.open, DescribeClusterRequest()),
            probe(.error(topicDenied), DescribeProducersRequest(topics: [.init(name: topic, partitionIndexes: [0])])),
            probe(.error(transactionDenied), DescribeTransactionsRequest(transactionalIds: [txn])),
            probe(.hides(txn), ListTransactionsRequest()),
            probe(.error(groupDenied), ConsumerGroupHeartbeatRequest(
                groupId: group, memberId: UUID().uuidString, memberEpoch: 0, rebalanceTimeoutMs: 10_000,
                subscribedTopicNames: [topic], topicPartitions: [])),
            probe(.error(groupDenied), ConsumerGroupDescribeRequest(groupIds: [group])),
            probe(.error(topicDenied), DescribeTopicPartitionsRequest(topics: [.init(name: topic)], responsePartitionLimit: 100)),
            probe(.error(clusterDenied), AlterReplicaLogDirsRequest(dirs: [.init(path: "/nonexistent", topics: [.init(name: topic, partitions: [0])])])),
            probe(.error(clusterDenied), UpdateFeaturesRequest(
                timeoutMs: 5_000, featureUpdates: [.init(feature: "transaction.version", maxVersionLevel: 1, upgradeType: 1)])),
            probe(.error(clusterDenied), WriteTxnMarkersRequest(markers: [.init(
                producerId: 1, producerEpoch: 0, transactionResult: false, topics: [.init(name: topic, partitionIndexes: [0])])])),
        ]
    }

    /// The requests between a cluster's nodes, served only in a cluster: each needs CLUSTER_ACTION
    /// (DescribeQuorum and the voter changes, DESCRIBE and ALTER on the cluster).
    static func clusterProbes() -> [Probe] {
        func betweenNodes<Request: KafkaRequest>(_ request: Request, version: Int16? = nil) -> Probe {
            var probe = probe(.error(clusterDenied), version: version, request)
            probe.deniedOnly = true
            return probe
        }
        let metadata = "__cluster_metadata"
        return [
            betweenNodes(VoteRequest(clusterId: nil, voterId: 1, topics: [.init(topicName: metadata, partitions: [.init(partitionIndex: 0, candidateEpoch: 99, candidateId: 7)])])),
            betweenNodes(BeginQuorumEpochRequest(clusterId: nil, voterId: 1, topics: [.init(topicName: metadata, partitions: [.init(partitionIndex: 0, leaderId: 7, leaderEpoch: 99)])])),
            betweenNodes(EndQuorumEpochRequest(clusterId: nil, topics: [.init(topicName: metadata, partitions: [.init(partitionIndex: 0, leaderId: 1, leaderEpoch: 1)])])),
            probe(.error(clusterDenied), DescribeQuorumRequest(topics: [.init(topicName: metadata, partitions: [.init(partitionIndex: 0)])])),
            betweenNodes(AlterPartitionRequest(brokerId: 1, brokerEpoch: 1, topics: [])),
            betweenNodes(FetchSnapshotRequest(clusterId: nil, replicaId: 7, maxBytes: 1 << 20, topics: [])),
            betweenNodes(EnvelopeRequest(requestData: ByteBuffer(bytes: [0, 3, 0, 12]), requestPrincipal: ByteBuffer(), clientHostAddress: ByteBuffer(bytes: [127, 0, 0, 1]))),
            betweenNodes(BrokerRegistrationRequest(brokerId: 7, clusterId: "x", incarnationId: Uuid(mostSignificantBits: 1, leastSignificantBits: 1))),
            betweenNodes(BrokerHeartbeatRequest(brokerId: 1, brokerEpoch: 1, currentMetadataOffset: 0, wantFence: true, wantShutDown: true)),
            betweenNodes(AllocateProducerIdsRequest(brokerId: 1, brokerEpoch: 1)),
            betweenNodes(AddRaftVoterRequest(clusterId: nil, timeoutMs: 1_000, voterId: 7)),
            betweenNodes(RemoveRaftVoterRequest(clusterId: nil, voterId: 1)),
            betweenNodes(UpdateRaftVoterRequest(clusterId: nil, currentLeaderEpoch: 1, voterId: 1)),
            betweenNodes(ControllerRegistrationRequest(controllerId: 7, incarnationId: Uuid(mostSignificantBits: 1, leastSignificantBits: 2))),
            betweenNodes(UnregisterBrokerRequest(brokerId: 1)),
        ]
    }

    /// APIs with nothing to authorize: connection set-up and authentication.
    static let unauthorized: Set<ApiKey> = [.apiVersions, .saslHandshake, .saslAuthenticate]

    /// Every error code and every string a response holds, at any depth.
    static func contents(of value: Any) -> (codes: [Int16], strings: [String]) {
        var codes: [Int16] = [], strings: [String] = []
        func walk(_ value: Any, label: String?) {
            if let code = value as? Int16, label?.hasSuffix("rrorCode") == true { codes.append(code); return }
            if let string = value as? String { strings.append(string); return }
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let wrapped = mirror.children.first { walk(wrapped.value, label: label); return }
            for child in mirror.children { walk(child.value, label: child.label ?? label) }
        }
        walk(value, label: nil)
        return (codes, strings)
    }

    /// A broker with PLAINTEXT (the admin: User:ANONYMOUS is not used) and a SASL/PLAIN listener.
    /// In a cluster (`quorum`), a one-node metadata quorum whose node authenticates to itself as
    /// User:admin.
    static func withSecuredBroker(quorum: Bool = false, _ body: (_ saslPort: Int) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brook-acl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let jaas = #"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_eve="eve-secret";"#
        let port = quorum ? try freePort() : 0
        var overrides = [
            "listeners=SASL_PLAINTEXT://127.0.0.1:\(port)", "log.dirs=\(directory)", "group.initial.rebalance.delay.ms=0",
            "sasl.enabled.mechanisms=PLAIN", "listener.name.sasl_plaintext.plain.sasl.jaas.config=\(jaas)",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer", "super.users=User:admin",
        ]
        if quorum {
            overrides += [
                "node.id=1", "controller.quorum.voters=1@127.0.0.1:\(port)", "sasl.mechanism.inter.broker.protocol=PLAIN",
                "sasl.mechanism.controller.protocol=PLAIN", "broker.heartbeat.interval.ms=200",
            ]
        }
        let config = try BrokerConfig(overrides: overrides)
        if quorum { _ = try StorageFormat.format(config, clusterId: KafkaUUID.random(), ignoreFormatted: false) }
        try await withRunningBroker(config, logger: Logger(label: "acl-matrix")) { broker in
            try await body(broker.boundListeners[0].port)
        }
    }

    /// A port free now (bound to 0 and released): a quorum's voter must be named before it binds.
    static func freePort() throws -> Int {
        let (descriptor, port) = try SilentPeerTests.silentListener()
        close(descriptor)
        return port
    }

    static func connect(_ port: Int, as user: String) async throws -> BrokerConnection {
        let security = try ClientSecurity(properties: [
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": "\(user)-secret",
        ])
        return try await BrokerConnection.connect(host: "127.0.0.1", port: port, clientId: user, security: security)
    }

    /// What the admin sees of the protected resources: topics, the secret topic's end offset and
    /// configs, the group's offsets, the ACLs and quotas.
    static func state(_ admin: BrokerConnection) async throws -> String {
        let metadata = try await admin.send(MetadataRequest(topics: nil))
        let offsets = try await admin.send(ListOffsetsRequest(topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: -1)])]))
        let committed = try await admin.send(OffsetFetchRequest(groupId: group, topics: nil), version: 7)
        let configs = try await admin.send(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: ["retention.ms"])]))
        let acls = try await admin.send(DescribeAclsRequest(resourceTypeFilter: 1, patternTypeFilter: 1, operation: 1, permissionType: 1))
        let quotas = try await admin.send(DescribeClientQuotasRequest(components: []))
        let groups = try await admin.send(DescribeGroupsRequest(groups: [group]))
        return [
            "\(metadata.topics.compactMap(\.name).sorted()) \(metadata.topics.map { $0.partitions.count })",
            "\(offsets.topics.map { $0.partitions.map(\.offset) })",
            "\(committed.topics.map { $0.partitions.map(\.committedOffset) })",
            "\(configs.results.map { $0.configs.map(\.value) })",
            "\(acls.resources.count) \(quotas.entries?.count ?? 0) \(groups.groups.map(\.groupState))",
        ].joined(separator: " | ")
    }

    @Test(arguments: [false, true])
    func everyApiRefusesAUserWithoutAclsAndChangesNothingThenServesItOnceAllowed(quorum: Bool) async throws {
        try await Self.withSecuredBroker(quorum: quorum) { port in
            let admin = try await Self.connect(port, as: "admin")
            for name in [Self.topic, Self.doomed] {
                // In a cluster the node elects itself and registers as a broker first: until
                // then there is no controller (NOT_CONTROLLER, REQUEST_TIMED_OUT) or no broker to
                // place a replica on (INVALID_REPLICATION_FACTOR).
                let deadline = ContinuousClock.now + .seconds(60)
                var created = try await admin.send(CreateTopicsRequest(topics: [.init(name: name, numPartitions: 1, replicationFactor: 1)], timeoutMs: 5_000))
                while quorum, [7, 38, 41].contains(created.topics.first?.errorCode ?? 0), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    created = try await admin.send(CreateTopicsRequest(topics: [.init(name: name, numPartitions: 1, replicationFactor: 1)], timeoutMs: 5_000))
                }
                #expect(created.topics.allSatisfy { $0.errorCode == 0 }, "\(created.topics.map(\.errorCode))")
            }
            var produce = ProduceRequest(acks: 1, timeoutMs: 5_000)
            produce.topicData = [.init(name: Self.topic, partitionData: [.init(index: 0, records: try Self.records())])]
            _ = try await admin.send(produce)
            _ = try await admin.send(OffsetCommitRequest(groupId: Self.group, topics: [.init(name: Self.topic, partitions: [.init(partitionIndex: 0, committedOffset: 1)])]))
            var initTransactional = InitProducerIdRequest(transactionalId: Self.transactionalId, transactionTimeoutMs: 60_000)
            initTransactional.producerId = -1
            // The transaction coordinator may still be loading its log (14, 15, 16: retriable).
            let deadline = ContinuousClock.now + .seconds(60)
            var initialized = try await admin.send(initTransactional)
            while [14, 15, 16].contains(initialized.errorCode), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                initialized = try await admin.send(initTransactional)
            }
            #expect(initialized.errorCode == 0)

            // The matrix names every API the broker serves, but connection set-up; it sends those served.
            let versions = try await admin.send(ApiVersionsRequest(clientSoftwareName: "brook-tests", clientSoftwareVersion: "1"), version: 3)
            let served = Set(versions.apiKeys.compactMap { ApiKey(rawValue: $0.apiKey) })
            let probes = try (Self.probes() + Self.clusterProbes()).filter { served.contains($0.api) }
            try #require(versions.errorCode == 0 && probes.count >= 50, "\(probes.count) probes of \(served.count) APIs")
            let probed = Set(probes.map(\.api))
            #expect(served.subtracting(probed).subtracting(Self.unauthorized).isEmpty, "APIs without a probe: \(served.subtracting(probed).subtracting(Self.unauthorized))")

            let before = try await Self.state(admin)
            let eve = try await Self.connect(port, as: "eve")
            for probe in probes {
                let (codes, strings) = Self.contents(of: try await probe.send(eve))
                switch probe.denial {
                case .error(let code):
                    #expect(codes.contains(code), "\(probe.api.name) answered \(codes), not \(code)")
                case .hides(let name):
                    #expect(!strings.contains(name), "\(probe.api.name) showed \(name)")
                case .open:
                    #expect(!codes.contains { Self.authorizationErrors.contains($0) }, "\(probe.api.name) refused: \(codes)")
                }
            }
            #expect(try await Self.state(admin) == before, "a refused request changed something")

            // Allowed everything, eve is refused nothing.
            var grants = CreateAclsRequest()
            for (type, name, pattern) in [(Int8(2), "*", Int8(3)), (3, "*", 3), (5, "*", 3), (4, "kafka-cluster", 3)] {
                grants.creations.append(.init(
                    resourceType: type, resourceName: name, resourcePatternType: pattern, principal: "User:eve", host: "*", operation: 2, permissionType: 3))
            }
            let granted = try await admin.send(grants)
            #expect(granted.results.allSatisfy { $0.errorCode == 0 })
            for probe in probes where !probe.deniedOnly {
                let (codes, strings) = Self.contents(of: try await probe.send(eve))
                #expect(!codes.contains { Self.authorizationErrors.contains($0) }, "\(probe.api.name) still refused: \(codes)")
                if case .hides(let name) = probe.denial, probe.api != .listGroups {
                    #expect(strings.contains(name), "\(probe.api.name) still hides \(name)")
                }
            }
            await eve.close()
            await admin.close()
        }
    }
}
