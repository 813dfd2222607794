import BrookProtocol
import BrookRecords
import NIOCore

/// The seam between a coordinator shard and its partition of `__consumer_offsets`: the broker
/// adapts its partition log to this, tests use an in-memory log.
public protocol CoordinatorLog: Sendable {
    /// Appends one record batch (offsets assigned by the log) and returns once it is written.
    ///
    /// The log appends it as the coordinator (Kafka's `AppendOrigin.COORDINATOR`): a batch with
    /// a producer id and no sequence (-1), such as a transactional offset commit, is neither
    /// sequence-checked nor taken for a retry, but an older producer epoch is refused. A
    /// transactional batch opens the producer's transaction in the partition, which holds the
    /// last stable offset until the COMMIT or ABORT marker. Adapters should throw
    /// ``CoordinatorLogError`` so that callers can answer with the right error code.
    func append(_ batch: ByteBuffer) throws
    /// Visits every batch from the log start to the log end, in order.
    func replay(_ visit: (RecordBatch) throws -> Void) throws
}

/// Why a coordinator log refused an append, as the Kafka error code of the refusal
/// (INVALID_PRODUCER_EPOCH for a fenced producer, NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR...).
public struct CoordinatorLogError: Error, Sendable, Equatable {
    public var code: ErrorCode

    public init(code: ErrorCode) {
        self.code = code
    }

    /// The error a coordinator answers a write request with when its append failed, as Kafka
    /// maps it: missing or under-replicated partitions become COORDINATOR_NOT_AVAILABLE, a lost
    /// leadership or a storage failure NOT_COORDINATOR, oversized batches UNKNOWN_SERVER_ERROR;
    /// anything else (a fenced producer epoch) is passed on. Errors of other types are
    /// COORDINATOR_NOT_AVAILABLE.
    public static func responseCode(for error: any Error) -> ErrorCode {
        guard let error = error as? CoordinatorLogError else { return .coordinatorNotAvailable }
        switch error.code {
        case .unknownTopicOrPartition, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut:
            return .coordinatorNotAvailable
        case .notLeaderOrFollower, .kafkaStorageError:
            return .notCoordinator
        case .messageTooLarge, .recordListTooLarge, .invalidFetchSize:
            return .unknownServerError
        default:
            return error.code
        }
    }
}

extension CoordinatorLog {
    /// Writes `records` as one batch stamped `now`.
    func write(_ records: [CoordinatorRecord], now: Int64) throws {
        guard !records.isEmpty else { return }
        var builder = RecordBatchBuilder()
        for record in records {
            let (key, value) = try record.encode()
            builder.append(timestamp: now, key: key, value: value)
        }
        try append(try builder.build())
    }

    /// Writes `records` as one transactional batch of producer `producerId` at `producerEpoch`
    /// stamped `now`: the transactional flag set and no sequence (-1), as Kafka's group
    /// coordinator writes TxnOffsetCommit. They count only once the producer's COMMIT marker
    /// follows them in the log.
    func writeTransactional(_ records: [CoordinatorRecord], producerId: Int64, producerEpoch: Int16, now: Int64) throws {
        guard !records.isEmpty else { return }
        var builder = RecordBatchBuilder(configuration: .init(
            producerId: producerId, producerEpoch: producerEpoch, baseSequence: -1, isTransactional: true))
        for record in records {
            let (key, value) = try record.encode()
            builder.append(timestamp: now, key: key, value: value)
        }
        try append(try builder.build())
    }
}
