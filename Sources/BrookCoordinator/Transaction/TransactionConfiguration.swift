/// The transaction coordinator's settings, from the broker's `transaction.*` keys.
public struct TransactionConfiguration: Sendable {
    /// `transaction.max.timeout.ms`: the longest `transaction.timeout.ms` a producer may ask for.
    public var maxTimeoutMs: Int32 = 900_000
    /// `transactional.id.expiration.ms`: an idle transactional id is forgotten after this long.
    public var transactionalIdExpirationMs: Int64 = 604_800_000
    /// `transaction.state.log.num.partitions`.
    public var statePartitions: Int32 = 50

    public init() {}
}
