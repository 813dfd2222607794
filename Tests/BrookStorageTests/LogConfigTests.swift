import BrookRecords
import Testing

@testable import BrookStorage

@Suite struct LogConfigTests {
    @Test func defaultsAreKafkas() {
        let config = LogConfig()
        #expect(config.segmentBytes == 1_073_741_824)
        #expect(config.segmentMs == 604_800_000)
        #expect(config.segmentJitterMs == 0)
        #expect(config.segmentIndexBytes == 10_485_760)
        #expect(config.indexIntervalBytes == 4_096)
        #expect(config.maxMessageBytes == 1_048_588)
        #expect(config.messageTimestampType == .createTime)
        #expect(config.flushMessages == .max)
        #expect(config.flushMs == .max)
        #expect(config.retentionMs == 604_800_000)
        #expect(config.retentionBytes == -1)
        #expect(config.cleanupPolicy == .delete)
        #expect(config.fileDeleteDelayMs == 60_000)
        #expect(config.preallocate == false)
        #expect(config.compressionType == .producer)
        #expect(config.minInSyncReplicas == 1)
        #expect(config.uncleanLeaderElectionEnable == false)
        #expect(config.deleteRetentionMs == 86_400_000)
        #expect(config.minCompactionLagMs == 0)
        #expect(config.maxCompactionLagMs == .max)
        #expect(config.minCleanableDirtyRatio == 0.5)
        #expect(config.messageTimestampBeforeMaxMs == .max)
        #expect(config.messageTimestampAfterMaxMs == 3_600_000)
    }

    @Test func overridesAreParsedAndValidated() throws {
        let config = try LogConfig(overrides: [
            "segment.bytes": " 2048 ", "message.timestamp.type": "LogAppendTime", "cleanup.policy": "compact, delete",
            "preallocate": "TRUE", "compression.type": "zstd", "min.cleanable.dirty.ratio": "0.25",
            "retention.ms": "-1", "flush.messages": "1",
        ])
        #expect(config.segmentBytes == 2_048)
        #expect(config.messageTimestampType == .logAppendTime)
        #expect(config.cleanupPolicy == [.compact, .delete])
        #expect(config.isCompacted && config.deletesOldSegments)
        #expect(config.preallocate)
        #expect(config.compressionType == .zstd)
        #expect(config.minCleanableDirtyRatio == 0.25)
        #expect(config.retentionMs == -1)
        #expect(config.flushMessages == 1)
        #expect(try LogConfig(overrides: config.describedValues) == config)
    }

    @Test(arguments: [
        ("segment.bytes", "10"), ("segment.bytes", "abc"), ("segment.bytes", "3000000000"), ("segment.ms", "0"),
        ("flush.messages", "0"), ("retention.ms", "-2"), ("message.timestamp.type", "createtime"),
        ("cleanup.policy", "delete,shred"), ("compression.type", "brotli"), ("min.cleanable.dirty.ratio", "1.5"),
        ("preallocate", "yes"), ("compression.gzip.level", "10"), ("remote.storage.enable", "true"), ("no.such.config", "1"),
    ])
    func invalidValuesNameTheirKey(key: String, value: String) {
        #expect {
            try LogConfig(overrides: [key: value])
        } throws: { error in
            guard case StorageError.invalidConfig(let failedKey, let failedValue, _) = error else { return false }
            return failedKey == key && failedValue == value
        }
    }

    @Test func throttledReplicaListsMustBeStarOrPartitionBrokerPairs() throws {
        let listed = try LogConfig(overrides: ["leader.replication.throttled.replicas": " 0:1, 1:2 ",
                                               "follower.replication.throttled.replicas": "*"])
        #expect(listed.leaderReplicationThrottledReplicas == "0:1, 1:2")
        #expect(listed.followerReplicationThrottledReplicas == "*")
        for bad in ["0-1", "0:1,", "a:1", "0:1:2"] {
            #expect(throws: StorageError.self) { try LogConfig(overrides: ["leader.replication.throttled.replicas": bad]) }
        }
    }
}
