import BrookRecords

/// A topic's log configuration: Kafka's topic-level configs, with Kafka's names and defaults.
///
/// Build it from the broker's defaults merged with the topic's overrides through
/// ``init(overrides:)``, which validates every value; the memberwise defaults are Kafka 4.0's.
/// The struct is a plain `Sendable` value: a ``PartitionLog`` takes a copy and
/// ``PartitionLog/updateConfig(_:)`` swaps in a new one (AlterConfigs).
///
/// Storage acts on the segment, index, flush, timestamp, size and deletion settings; cleanup,
/// compaction and replication settings are carried for the cleaner, retention and the broker.
public struct LogConfig: Sendable, Equatable {
    /// `cleanup.policy`: what happens to old segments.
    public struct CleanupPolicy: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Discard segments past retention.ms / retention.bytes.
        public static let delete = CleanupPolicy(rawValue: 1)
        /// Keep the latest record per key (the log cleaner).
        public static let compact = CleanupPolicy(rawValue: 2)
    }

    /// `compression.type`: the codec the broker stores batches with.
    public enum CompressionType: String, Sendable, CaseIterable {
        /// Keep whatever codec the producer used.
        case producer
        case uncompressed, gzip, snappy, lz4, zstd
    }

    // MARK: Segments and indexes

    /// `segment.bytes`: roll when the active segment would exceed this size. Default 1 GiB.
    public var segmentBytes: Int = 1_073_741_824
    /// `segment.ms`: roll a segment whose first batch is this old. Default 7 days.
    public var segmentMs: Int64 = 604_800_000
    /// `segment.jitter.ms`: a random amount in [0, jitter) subtracted from segment.ms per segment.
    public var segmentJitterMs: Int64 = 0
    /// `segment.index.bytes`: size each index is preallocated to; a full index rolls. 10 MiB.
    public var segmentIndexBytes: Int = 10_485_760
    /// `index.interval.bytes`: log bytes between two offset index entries. Default 4096.
    public var indexIntervalBytes: Int = 4096
    /// `preallocate`: size a new segment's `.log` file to segment.bytes up front.
    public var preallocate = false
    /// `write.caching` (Brook's, after Redpanda's key of the same name): whether acks=all may be
    /// answered from the page cache. False (the default) makes acks=all wait until the records
    /// are fsynced when no other in-sync replica holds them (always so on one node), one group
    /// fsync covering every request waiting; true answers once the records are written, as Kafka.
    public var writeCaching = false

    // MARK: Records

    /// `max.message.bytes`: the largest record batch accepted. Default 1048588.
    public var maxMessageBytes: Int = 1_048_588
    /// `message.timestamp.type`: CreateTime keeps the producer's timestamps, LogAppendTime
    /// stamps each batch with the broker's clock.
    public var messageTimestampType: TimestampType = .createTime
    /// `message.timestamp.before.max.ms`: how far in the past a CreateTime timestamp may be.
    public var messageTimestampBeforeMaxMs: Int64 = .max
    /// `message.timestamp.after.max.ms`: how far in the future a CreateTime timestamp may be.
    /// Default one hour (Kafka 4.0).
    public var messageTimestampAfterMaxMs: Int64 = 3_600_000
    /// `compression.type`. Default producer.
    public var compressionType: CompressionType = .producer
    /// `compression.gzip.level` (1...9, or -1 for zlib's default).
    public var compressionGzipLevel: Int32 = -1
    /// `compression.lz4.level` (1...17). Default 9.
    public var compressionLZ4Level: Int32 = 9
    /// `compression.zstd.level` (-131072...22). Default 3.
    public var compressionZstdLevel: Int32 = 3

    // MARK: Durability

    /// `flush.messages`: fsync after this many messages (offsets) are unflushed. Default never.
    public var flushMessages: Int64 = .max
    /// `flush.ms`: fsync when the last flush is this old. Default never.
    public var flushMs: Int64 = .max
    /// `file.delete.delay.ms`: how long a `.deleted` segment waits before it is unlinked.
    public var fileDeleteDelayMs: Int64 = 60_000

    // MARK: Retention and compaction

    /// `cleanup.policy`. Default delete.
    public var cleanupPolicy: CleanupPolicy = .delete
    /// `retention.ms`: delete segments whose newest record is older; -1 keeps forever. 7 days.
    public var retentionMs: Int64 = 604_800_000
    /// `retention.bytes`: delete the oldest segments while the log is larger; -1 is unlimited.
    public var retentionBytes: Int64 = -1
    /// `delete.retention.ms`: how long the cleaner keeps tombstones. Default 1 day.
    public var deleteRetentionMs: Int64 = 86_400_000
    /// `min.compaction.lag.ms`: a record stays uncompacted at least this long. Default 0.
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`: a record is compacted at the latest this long after it was
    /// written. Default never.
    public var maxCompactionLagMs: Int64 = .max
    /// `min.cleanable.dirty.ratio`: the dirty share of the log that triggers cleaning. 0.5.
    public var minCleanableDirtyRatio: Double = 0.5

    // MARK: Replication

    /// `min.insync.replicas`: replicas that must have a write for acks=all. Default 1.
    public var minInSyncReplicas: Int = 1
    /// `unclean.leader.election.enable`. Default false.
    public var uncleanLeaderElectionEnable = false
    /// `leader.replication.throttled.replicas`, kept as given (the broker parses it).
    public var leaderReplicationThrottledReplicas = ""
    /// `follower.replication.throttled.replicas`, kept as given (the broker parses it).
    public var followerReplicationThrottledReplicas = ""

    /// Kafka's defaults.
    public init() {}

    /// Whether `cleanup.policy` includes compact.
    public var isCompacted: Bool { cleanupPolicy.contains(.compact) }
    /// Whether `cleanup.policy` includes delete.
    public var deletesOldSegments: Bool { cleanupPolicy.contains(.delete) }

    /// Entries of the offset index a segment can hold (segment.index.bytes / 8).
    var maxOffsetIndexEntries: Int { segmentIndexBytes / OffsetIndex.entrySize }
    /// Entries of the time index a segment can hold (segment.index.bytes / 12).
    var maxTimeIndexEntries: Int { segmentIndexBytes / TimeIndex.entrySize }
}
