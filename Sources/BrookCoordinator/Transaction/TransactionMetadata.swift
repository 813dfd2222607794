import BrookModel

/// What the transaction coordinator knows of one transactional id: the producer id and epoch it
/// hands out, and the partitions of its current transaction. This is the value of the id's
/// record in `__transaction_state`; the last record of an id wins, a tombstone forgets it.
public struct TransactionMetadata: Sendable, Equatable {
    public var transactionalId: String
    public var producerId: Int64
    /// The producer id used before the epoch ran out and a new id was allocated, -1 if none.
    public var previousProducerId: Int64 = -1
    public var producerEpoch: Int16
    /// The epoch before the last bump, so that a retried InitProducerId can be recognised
    /// (KIP-360); -1 when unknown. Kept in memory only, as in Kafka.
    public var lastProducerEpoch: Int16 = -1
    public var timeoutMs: Int32
    public var state: TransactionState
    /// The partitions of the current transaction (empty unless Ongoing or Prepare*).
    public var partitions: Set<TopicPartition> = []
    /// When the current transaction began (its first AddPartitionsToTxn), -1 if none has.
    public var startTimestamp: Int64 = -1
    public var lastUpdateTimestamp: Int64

    public init(
        transactionalId: String, producerId: Int64, producerEpoch: Int16, timeoutMs: Int32,
        state: TransactionState, lastUpdateTimestamp: Int64
    ) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.timeoutMs = timeoutMs
        self.state = state
        self.lastUpdateTimestamp = lastUpdateTimestamp
    }

    /// Kafka stops bumping an epoch one short of `Int16.max` and moves to a new producer id.
    static let lastUsableEpoch = Int16.max - 1

    /// The deadline of the open transaction, nil unless one is Ongoing.
    var timeoutDeadline: Int64? {
        guard state == .ongoing, startTimestamp >= 0 else { return nil }
        return startTimestamp + Int64(timeoutMs)
    }
}
