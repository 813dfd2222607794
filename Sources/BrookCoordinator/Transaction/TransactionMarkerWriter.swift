import BrookModel
import BrookProtocol

/// The COMMIT or ABORT markers that end one transaction on its partitions.
public struct TransactionMarkers: Sendable, Equatable {
    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    public var coordinatorEpoch: Int32
    public var commit: Bool
    public var partitions: [TopicPartition]
}

/// The seam through which the coordinator ends transactions on their partitions: the broker
/// appends markers to the partitions it leads (and would send WriteTxnMarkers to the leaders of
/// the others); tests record them.
public protocol TransactionMarkerWriter: Sendable {
    /// Writes `markers` to every partition and returns an error per partition (NONE when written).
    /// UNKNOWN_TOPIC_OR_PARTITION counts as done (the partition is gone); any other error leaves
    /// the transaction prepared, and its markers are written again later.
    func write(_ markers: TransactionMarkers) async -> [TopicPartition: ErrorCode]
}
