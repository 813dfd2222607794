import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage

/// Why a producer's append to a partition this broker leads was refused; nothing of the
/// partition's records was written. Each case maps to the Kafka error code of the Produce answer.
enum LeaderAppendError: Error, Equatable, CustomStringConvertible {
    /// One record that broke a rule, by its position in its batch (Produce v8+ `record_errors`).
    struct RecordError: Equatable, Sendable {
        var batchIndex: Int
        var message: String
    }

    /// The log refused the batches.
    case storage(StorageError)
    /// A legacy (magic 0/1) message set could not be converted to a v2 batch.
    case messageSet(MessageSetError)
    /// acks=-1 while the in-sync replicas are fewer than `min.insync.replicas` (NOT_ENOUGH_REPLICAS).
    case notEnoughReplicas(partition: TopicPartition, inSyncReplicas: [Int32], minInSyncReplicas: Int)
    /// Records of one batch broke a rule (INVALID_RECORD), such as a null key on a compacted topic.
    case invalidRecords([RecordError])
    /// This broker no longer leads the partition (NOT_LEADER_OR_FOLLOWER): the client refreshes
    /// its metadata and goes to the new leader.
    case notLeader(partition: TopicPartition)

    /// The code of the Produce answer.
    var errorCode: ErrorCode {
        switch self {
        case .storage(let error): error.errorCode
        case .messageSet(let error): error.errorCode
        case .notEnoughReplicas: .notEnoughReplicas
        case .invalidRecords: .invalidRecord
        case .notLeader: .notLeaderOrFollower
        }
    }

    /// The record errors of the Produce answer (empty but for ``invalidRecords(_:)``).
    var recordErrors: [ProduceResponse.BatchIndexAndErrorMessage] {
        guard case .invalidRecords(let errors) = self else { return [] }
        return errors.map { .init(batchIndex: Int32(clamping: $0.batchIndex), batchIndexErrorMessage: $0.message) }
    }

    var description: String {
        switch self {
        case .storage(let error):
            return "\(error)"
        case .messageSet(let error):
            return "\(error)"
        case .notEnoughReplicas(let partition, let isr, let minimum):
            let members = isr.map(String.init).joined(separator: ", ")
            return "The size of the current ISR [\(members)] is insufficient to satisfy the min.isr requirement of \(minimum) for partition \(partition)"
        case .notLeader(let partition):
            return "This broker is not the leader of \(partition)"
        case .invalidRecords(let errors):
            // Kafka's summary: the count, then at most three of the errors.
            let shown = errors.prefix(3).map { "RecordError(batchIndex=\($0.batchIndex), message='\($0.message)')" }
            return "One or more records have been rejected due to \(errors.count) record errors in total, and only showing the first three errors at most: [\(shown.joined(separator: ", "))]"
        }
    }
}
