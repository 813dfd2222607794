import BrookClient
import BrookModel
import BrookProtocol
import Testing

/// TopicAdmin against an in-process broker: what it creates is what it lists and describes,
/// and every refusal comes back as the Kafka error the broker sent.
@Suite struct TopicAdminTests {
    @Test func topicsAreCreatedListedDescribedGrownAndDeleted() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let admin = TopicAdmin(cluster: cluster)
            let created = try await admin.create(.init(name: "orders", partitions: 3, replicationFactor: 1, configs: ["cleanup.policy": "compact"]))
            #expect(created.partitions == 3)
            #expect(created.replicationFactor == 1)
            #expect(created.topicId != .zero)
            let defaults = try await admin.create(.init(name: "defaults"))
            #expect(defaults.partitions == 1)  // num.partitions

            let dryRun = try await admin.create(.init(name: "dry-run", partitions: 2), validateOnly: true)
            #expect(dryRun.topicId == .zero)
            #expect(try await admin.list().map(\.name) == ["defaults", "orders"])

            let description = try #require(try await admin.describe(["orders"], includeConfigs: true).first)
            #expect(description.topicId == created.topicId)
            #expect(description.replicationFactor == 1)
            #expect(description.partitions == (0..<3).map { TopicAdmin.Partition(partition: $0, leader: 1, replicas: [1], isr: [1]) })
            let policy = try #require(description.configs?.first { $0.name == "cleanup.policy" })
            #expect(policy.value == "compact")
            #expect(policy.source == .dynamicTopicConfig)
            #expect(description.configs?.first { $0.name == "retention.ms" }?.isDefault == true)
            #expect(try await admin.describe(["orders"]).first?.configs == nil)

            try await admin.createPartitions("orders", totalCount: 5)
            #expect(try await admin.describe(["orders"]).first?.partitions.map(\.partition) == [0, 1, 2, 3, 4])
            try await admin.createPartitions("orders", totalCount: 8, validateOnly: true)
            #expect(try await admin.describe(["orders"]).first?.partitions.count == 5)

            try await admin.delete("orders")
            #expect(try await admin.list().map(\.name) == ["defaults"])
            await cluster.close()
        }
    }

    @Test func refusalsCarryTheKafkaErrorAndNothingIsAutoCreated() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let admin = TopicAdmin(cluster: cluster)
            try await admin.create(.init(name: "taken", partitions: 2))

            try await expectKafkaError(.topicAlreadyExists) { try await admin.create(.init(name: "taken")) }
            try await expectKafkaError(.invalidTopicException) { try await admin.create(.init(name: "no spaces allowed")) }
            try await expectKafkaError(.invalidPartitions) { try await admin.create(.init(name: "none", partitions: 0)) }
            try await expectKafkaError(.invalidConfig) { try await admin.create(.init(name: "bad", configs: ["retention.ms": "soon"])) }
            try await expectKafkaError(.invalidPartitions) { try await admin.createPartitions("taken", totalCount: 1) }
            try await expectKafkaError(.unknownTopicOrPartition) { try await admin.createPartitions("missing", totalCount: 3) }
            try await expectKafkaError(.unknownTopicOrPartition) { try await admin.delete("missing") }
            // The broker auto-creates topics (auto.create.topics.enable=true), but describing
            // one must not.
            try await expectKafkaError(.unknownTopicOrPartition) { _ = try await admin.describe(["missing"]) }
            try await expectKafkaError(.invalidTopicException) { _ = try await admin.describe(["bad name"]) }
            #expect(try await admin.list().map(\.name) == ["taken"])
            await cluster.close()
        }
    }

    @Test func internalTopicsAreListedOnlyWhenAsked() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let admin = TopicAdmin(cluster: cluster)
            try await admin.create(.init(name: "t", partitions: 1))
            // A committed offset makes the broker create __consumer_offsets.
            try await GroupAdmin(cluster: cluster).commitOffsets("g", [TopicPartition(topic: "t", partition: 0): 0])
            #expect(try await admin.list().map(\.name) == ["t"])
            let all = try await admin.list(includeInternal: true)
            #expect(all.map(\.name) == ["__consumer_offsets", "t"])
            #expect(all.map(\.isInternal) == [true, false])
            #expect(try await admin.describe(["__consumer_offsets"]).first?.isInternal == true)
            await cluster.close()
        }
    }
}

/// Expects `body` to throw ``ClientError/broker(_:_:)`` with `code`.
func expectKafkaError(
    _ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async throws {
    do {
        try await body()
        Issue.record("expected \(code.kafkaName), nothing was thrown", sourceLocation: sourceLocation)
    } catch ClientError.broker(let thrown, _) {
        #expect(thrown == code, sourceLocation: sourceLocation)
    }
}
