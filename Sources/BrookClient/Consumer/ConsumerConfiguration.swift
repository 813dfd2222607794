/// A ``Consumer``'s settings, named after the Java client's configs.
public struct ConsumerConfiguration: Sendable {
    /// Where to start a partition that has no committed offset (`auto.offset.reset`).
    public enum OffsetReset: String, Sendable {
        case earliest, latest, none
    }

    /// `bootstrap.servers`.
    public var bootstrapServers: String
    /// `client.id`.
    public var clientId = "brook-consumer"
    /// `group.id`: needed for committed offsets (and for subscribing).
    public var groupId: String? = nil
    /// `auto.offset.reset`.
    public var autoOffsetReset: OffsetReset = .latest
    /// `isolation.level`: false reads everything up to the high watermark (read_uncommitted),
    /// true only committed transactional records, up to the last stable offset.
    public var readCommitted = false
    /// `fetch.min.bytes`.
    public var fetchMinBytes: Int32 = 1
    /// `fetch.max.wait.ms`.
    public var fetchMaxWaitMs: Int32 = 500
    /// `fetch.max.bytes`.
    public var fetchMaxBytes: Int32 = 52_428_800
    /// `max.partition.fetch.bytes`.
    public var maxPartitionFetchBytes: Int32 = 1_048_576
    /// `max.poll.records`.
    public var maxPollRecords = 500

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }
}
