import BrookModel
import Logging

/// The transaction coordinator: one ``TransactionShard`` per partition of `__transaction_state`,
/// each transactional id owned by the shard its id hashes to (the same hash as groups).
///
/// Its owner calls ``abortTimedOutTransactions()`` every
/// `transaction.abort.timed.out.transaction.cleanup.interval.ms`, ``expireTransactionalIds()``
/// every `transaction.remove.expired.transaction.cleanup.interval.ms`, and ``shutdown()`` when
/// the broker stops.
public final class TransactionCoordinator: Sendable {
    public let configuration: TransactionConfiguration
    public let shards: [TransactionShard]

    /// Creates a coordinator over one log per state-topic partition (`logs[i]` is partition i).
    /// `newProducerId` hands out producer ids that are never reused. `coordinatorEpochs[i]` is
    /// the coordinator epoch of partition i (Kafka's: the partition's leader epoch, which grows
    /// each time a coordinator loads it), written into its markers so that partitions refuse
    /// the markers of an older coordinator; a missing entry is 0.
    public init(
        configuration: TransactionConfiguration, logs: [any CoordinatorLog], markers: any TransactionMarkerWriter,
        newProducerId: @escaping @Sendable () throws -> Int64, coordinatorEpochs: [Int32] = [], logger: Logger,
        clock: @escaping @Sendable () -> Int64 = GroupCoordinator.wallClockMilliseconds
    ) {
        self.configuration = configuration
        shards = logs.enumerated().map { index, log in
            TransactionShard(
                partition: Int32(index), log: log, configuration: configuration, markers: markers,
                newProducerId: newProducerId, coordinatorEpoch: index < coordinatorEpochs.count ? coordinatorEpochs[index] : 0,
                clock: clock, logger: logger)
        }
    }

    /// Loads every shard from its log. Call ``completePreparedTransactions()`` afterwards to
    /// finish the transactions that were being committed or aborted.
    public func load() throws {
        for shard in shards { try shard.load() }
    }

    /// The shard that owns `transactionalId`.
    public func shard(for transactionalId: String) -> TransactionShard {
        shards[Int(GroupCoordinator.partition(for: transactionalId, partitions: Int32(shards.count)))]
    }

    public func abortTimedOutTransactions() async {
        for shard in shards { await shard.abortTimedOutTransactions() }
    }

    public func completePreparedTransactions() async {
        for shard in shards { await shard.completePreparedTransactions() }
    }

    public func expireTransactionalIds() async {
        for shard in shards { await shard.expireTransactionalIds() }
    }

    public func shutdown() {
        for shard in shards { shard.shutdown() }
    }

    /// ListTransactions: every transactional id in one of `states` (all when empty), with one of
    /// `producerIds` (all when empty), whose transaction has been open at least `minimumDurationMs`
    /// (all when negative).
    public func listTransactions(
        states: Set<TransactionState>, producerIds: Set<Int64>, minimumDurationMs: Int64, now: Int64
    ) async -> [TransactionMetadata] {
        var all: [TransactionMetadata] = []
        for shard in shards { all += await shard.transactions }
        return all.filter { metadata in
            (states.isEmpty || states.contains(metadata.state))
                && (producerIds.isEmpty || producerIds.contains(metadata.producerId))
                && (minimumDurationMs < 0 || (metadata.startTimestamp >= 0 && now - metadata.startTimestamp >= minimumDurationMs))
        }.sorted { $0.transactionalId < $1.transactionalId }
    }
}
