#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The group coordinator: one ``GroupShard`` per partition of `__consumer_offsets`, each group
/// owned by the shard its id hashes to (Kafka's `abs(groupId.hashCode) % partitions`).
///
/// Its owner calls ``expireSessions()`` every few hundred milliseconds, ``expireOffsets()`` every
/// `offsets.retention.check.interval.ms`, and ``shutdown()`` before the network drains.
public final class GroupCoordinator: Sendable {
    public let configuration: GroupConfiguration
    public let shards: [GroupShard]
    let logger: Logger

    /// Creates a coordinator over one log per offsets-topic partition (`logs[i]` is partition i).
    public init(
        configuration: GroupConfiguration, logs: [any CoordinatorLog], logger: Logger,
        clock: @escaping @Sendable () -> Int64 = GroupCoordinator.wallClockMilliseconds
    ) {
        self.configuration = configuration
        self.logger = logger
        shards = logs.enumerated().map { index, log in
            GroupShard(partition: Int32(index), log: log, configuration: configuration, clock: clock, logger: logger)
        }
    }

    /// Loads every shard's groups and offsets from its log.
    public func load(catalog: TopicCatalog = TopicCatalog(topics: [:])) throws {
        for shard in shards { try shard.load(catalog: catalog) }
    }

    /// The partition of `__consumer_offsets` that owns `groupId`.
    public static func partition(for groupId: String, partitions: Int32) -> Int32 {
        var hash: Int32 = 0
        for unit in groupId.utf16 { hash = hash &* 31 &+ Int32(unit) }
        let positive = hash == Int32.min ? 0 : abs(hash)
        return positive % partitions
    }

    /// The shard that owns `groupId`.
    public func shard(for groupId: String) -> GroupShard {
        shards[Int(Self.partition(for: groupId, partitions: Int32(shards.count)))]
    }

    /// Applies a transaction's outcome to the transactional offsets it committed in partition
    /// `offsetsPartition` of `__consumer_offsets`; call it once the producer's COMMIT
    /// (`commit` true) or ABORT marker is in that partition's log. Repeating it is harmless;
    /// a partition this coordinator does not have is ignored.
    public func completeTransaction(offsetsPartition: Int32, producerId: Int64, commit: Bool) async {
        guard shards.indices.contains(Int(offsetsPartition)) else { return }
        await shards[Int(offsetsPartition)].completeTransaction(producerId: producerId, commit: commit)
    }

    /// Times out sessions and rebalance phases in every shard not busy now; call every tick.
    public func expireSessions() {
        for shard in shards { shard.expireSessionsIfIdle() }
    }

    /// Expires old offsets of empty groups in every shard; call every `offsets.retention.check.interval.ms`.
    /// Offsets whose tombstones could not be written stay, are counted in the answer (each shard
    /// logs them at error) and are tried again at the next call.
    @discardableResult
    public func expireOffsets() async -> OffsetExpiry {
        var expiry = OffsetExpiry()
        for shard in shards { expiry = expiry + (await shard.expireOffsets()) }
        return expiry
    }

    /// Answers every parked JoinGroup/SyncGroup with NOT_COORDINATOR and refuses new requests,
    /// so that the network can drain when the broker stops.
    public func shutdown() {
        for shard in shards { shard.shutdown() }
    }

    @Sendable public static func wallClockMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }
}
