import BrookClient
import BrookProtocol
import Testing

/// ConfigAdmin against an in-process broker: DescribeConfigs' sources, flags and synonyms, and
/// the four IncrementalAlterConfigs operations on topics and on the broker.
@Suite struct ConfigAdminTests {
    @Test func topicConfigsAreSetAppendedSubtractedAndDeleted() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await TopicAdmin(cluster: cluster).create(.init(name: "t", partitions: 1))
            let admin = ConfigAdmin(cluster: cluster)
            let topic = ConfigResource.topic("t")

            let before = try await admin.describe(topic, keys: ["retention.ms"])
            #expect(before.map(\.name) == ["retention.ms"])
            #expect(before.first?.source == .defaultConfig)
            #expect(before.first?.synonyms == [])

            try await admin.incrementalAlter(topic, [.set("retention.ms", "3600000"), .append("cleanup.policy", "compact")])
            let set = try await admin.describe(topic, keys: ["retention.ms", "cleanup.policy"], includeSynonyms: true)
            let retention = try #require(set.first { $0.name == "retention.ms" })
            #expect(retention.value == "3600000")
            #expect(retention.source == .dynamicTopicConfig)
            #expect(!retention.isSensitive && !retention.isReadOnly)
            #expect(retention.synonyms.first == ConfigEntry.Synonym(name: "retention.ms", value: "3600000", source: .dynamicTopicConfig))
            #expect(retention.synonyms.last?.source == .defaultConfig)
            // APPEND starts from the effective value, `delete`.
            #expect(set.first { $0.name == "cleanup.policy" }?.value == "delete,compact")

            try await admin.incrementalAlter(topic, [.subtract("cleanup.policy", "delete")])
            #expect(try await admin.describe(topic, keys: ["cleanup.policy"]).first?.value == "compact")

            try await admin.incrementalAlter(topic, [.set("retention.ms", "1")], validateOnly: true)
            #expect(try await admin.describe(topic, keys: ["retention.ms"]).first?.value == "3600000")

            try await admin.incrementalAlter(topic, [.delete("retention.ms"), .delete("cleanup.policy")])
            let reset = try await admin.describe(topic, keys: ["retention.ms", "cleanup.policy"])
            #expect(reset.map(\.source) == [.defaultConfig, .defaultConfig])

            try await expectKafkaError(.invalidConfig) { try await admin.incrementalAlter(topic, [.append("retention.ms", "5")]) }
            try await expectKafkaError(.invalidConfig) { try await admin.incrementalAlter(topic, [.set("no.such.key", "1")]) }
            try await expectKafkaError(.unknownTopicOrPartition) { _ = try await admin.describe(.topic("missing")) }
            try await expectKafkaError(.unknownTopicOrPartition) { try await admin.incrementalAlter(.topic("missing"), [.set("retention.ms", "1")]) }
            await cluster.close()
        }
    }

    @Test func brokerConfigsAreDescribedWithTheirFlagsAndAlteredDynamically() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let admin = ConfigAdmin(cluster: cluster)
            let broker = ConfigResource.broker(1)

            let all = try await admin.describe(broker)
            let directories = try #require(all.first { $0.name == "log.dirs" })
            #expect(directories.isReadOnly)
            #expect(directories.source == .staticBrokerConfig)
            let connections = try #require(all.first { $0.name == "max.connections" })
            #expect(!connections.isReadOnly)
            #expect(connections.isDefault)

            try await admin.incrementalAlter(broker, [.set("max.connections", "1000")])
            let altered = try await admin.describe(broker, keys: ["max.connections"], includeSynonyms: true)
            #expect(altered.first?.value == "1000")
            #expect(altered.first?.source == .dynamicBrokerConfig)
            #expect(altered.first?.synonyms.map(\.source) == [.dynamicBrokerConfig, .defaultConfig])
            try await admin.incrementalAlter(broker, [.delete("max.connections")])
            #expect(try await admin.describe(broker, keys: ["max.connections"]).first?.isDefault == true)

            #expect(try await admin.describe(.brokerDefaults).isEmpty)
            try await expectKafkaError(.invalidRequest) { _ = try await admin.describe(ConfigResource(kind: .broker, name: "one")) }
            await #expect(throws: ClientError.self) { _ = try await admin.describe(.broker(7)) }
            await cluster.close()
        }
    }
}
