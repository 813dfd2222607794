import BrookProtocol
import BrookRecords
import BrookStorage

extension StorageError {
    /// The Kafka error code a client expects for this failure.
    var errorCode: ErrorCode {
        switch self {
        case .offsetOutOfRange: .offsetOutOfRange
        case .recordTooLarge: .messageTooLarge
        case .invalidRecords(let error): error.errorCode
        case .invalidBatch: .invalidRecord
        case .invalidTimestamp: .invalidTimestamp
        case .invalidConfig: .invalidConfig
        case .diskFull, .io, .corruptFile, .appendRefusedForSpace, .directoryOffline: .kafkaStorageError
        case .logClosed: .notLeaderOrFollower
        case .inconsistentTopicId: .inconsistentTopicId
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .unknownProducerId: .unknownProducerId
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .transactionCoordinatorFenced: .transactionCoordinatorFenced
        case .invalidTransactionState: .invalidTxnState
        }
    }
}

extension RecordBatchError {
    /// Framing and checksum failures are CORRUPT_MESSAGE; batches that are intact but break the
    /// rules are INVALID_RECORD, as in Kafka.
    var errorCode: ErrorCode {
        switch self {
        case .truncated, .invalidBatchLength, .batchLengthMismatch, .invalidMagic, .crcMismatch:
            .corruptMessage
        case .unsupportedCompression:
            .unsupportedCompressionType
        default:
            .invalidRecord
        }
    }
}
