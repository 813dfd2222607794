@testable import BrookBroker
import BrookStorage
import Testing

/// Broker-wide log defaults (`log.cleaner.*`, `log.*`, `min.insync.replicas`, `compression.type`)
/// are the configuration of every topic that does not override the matching topic key, from the
/// start and after dynamic changes.
@Suite struct PartitionConfigDefaultsTests {
    static let brokerDefaults = [
        "log.cleaner.min.cleanable.ratio=0.2", "log.cleaner.delete.retention.ms=1000",
        "log.cleaner.min.compaction.lag.ms=5000", "log.cleaner.max.compaction.lag.ms=60000",
        "log.cleanup.policy=compact", "min.insync.replicas=2", "compression.type=zstd", "log.retention.hours=2",
    ]

    @Test func brokerDefaultsConfigureTopicsWithoutOverrides() throws {
        let fixture = try PartitionFixture(overrides: Self.brokerDefaults)
        defer { fixture.remove() }
        try fixture.topic("plain")
        let config = fixture.partition("plain").log.config
        #expect(config.minCleanableDirtyRatio == 0.2)
        #expect(config.deleteRetentionMs == 1_000)
        #expect(config.minCompactionLagMs == 5_000)
        #expect(config.maxCompactionLagMs == 60_000)
        #expect(config.cleanupPolicy == .compact)
        #expect(config.minInSyncReplicas == 2)
        #expect(config.compressionType == .zstd)
        #expect(config.retentionMs == 7_200_000)
    }

    @Test func topicOverridesWinOverBrokerDefaults() throws {
        let fixture = try PartitionFixture(overrides: Self.brokerDefaults)
        defer { fixture.remove() }
        try fixture.topic("own", configs: [
            "min.cleanable.dirty.ratio": "0.9", "delete.retention.ms": "7", "min.compaction.lag.ms": "8",
            "max.compaction.lag.ms": "9", "cleanup.policy": "delete", "min.insync.replicas": "1",
            "compression.type": "producer", "retention.ms": "10",
        ])
        let config = fixture.partition("own").log.config
        #expect(config.minCleanableDirtyRatio == 0.9)
        #expect(config.deleteRetentionMs == 7)
        #expect(config.minCompactionLagMs == 8)
        #expect(config.maxCompactionLagMs == 9)
        #expect(config.cleanupPolicy == .delete)
        #expect(config.minInSyncReplicas == 1)
        #expect(config.compressionType == .producer)
        #expect(config.retentionMs == 10)
    }

    @Test func dynamicBrokerChangesReachOpenLogsAtOnce() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("plain")
        try fixture.topic("own", configs: ["min.cleanable.dirty.ratio": "0.9"])

        try fixture.alterer.alterBroker(validateOnly: false) { _ in
            ["log.cleaner.min.cleanable.ratio": "0.3", "log.cleanup.policy": "compact,delete", "log.cleaner.delete.retention.ms": "123"]
        }
        let plain = fixture.partition("plain").log.config
        #expect(plain.minCleanableDirtyRatio == 0.3)
        #expect(plain.cleanupPolicy == [.compact, .delete])
        #expect(plain.deleteRetentionMs == 123)
        let own = fixture.partition("own").log.config
        #expect(own.minCleanableDirtyRatio == 0.9)
        #expect(own.deleteRetentionMs == 123)

        try fixture.alterer.alterBroker(validateOnly: false) { _ in ["log.cleaner.min.cleanable.ratio": nil] }
        #expect(fixture.partition("plain").log.config.minCleanableDirtyRatio == 0.5)
        #expect(fixture.partition("plain").log.config.deleteRetentionMs == 123)
    }

    @Test func validateOnlyBrokerChangesLeaveLogsAlone() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("plain")
        try fixture.alterer.alterBroker(validateOnly: true) { _ in ["log.cleaner.min.cleanable.ratio": "0.3"] }
        #expect(fixture.partition("plain").log.config.minCleanableDirtyRatio == 0.5)
    }

    @Test func removingATopicOverrideFallsBackToTheBrokerDefault() throws {
        let fixture = try PartitionFixture(overrides: ["log.cleaner.min.compaction.lag.ms=5000"])
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["min.compaction.lag.ms": "1"])
        #expect(fixture.partition("t").log.config.minCompactionLagMs == 1)
        try fixture.alterer.alterTopic("t", validateOnly: false) { _, _ in [:] }
        #expect(fixture.partition("t").log.config.minCompactionLagMs == 5_000)
    }
}
