#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import BrookRecords

/// Why a log operation failed.
///
/// BrookStorage does not know Kafka's error codes; the broker's handlers map these cases to them
/// (`offsetOutOfRange` to OFFSET_OUT_OF_RANGE, `recordTooLarge` to MESSAGE_TOO_LARGE,
/// `invalidRecords` to CORRUPT_MESSAGE or INVALID_RECORD, `diskFull` and `io` to
/// KAFKA_STORAGE_ERROR, and so on).
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file system has no space (or quota) left (`ENOSPC`, `EDQUOT`) while writing `path`.
    case diskFull(path: String)
    /// An append found no space left on the disk and was refused whole: nothing of it was
    /// written and the log is intact, so appends may succeed again once space is freed.
    case appendRefusedForSpace(path: String)
    /// The log directory went offline after an I/O failure (`cause`): what is on its disk can no
    /// longer be trusted, so every log in it refuses reads and writes until the broker restarts
    /// and recovers it (Kafka's offline log directory).
    case directoryOffline(directory: String, cause: String)
    /// A system call failed with `errno` on `path`.
    case io(errno: Int32, path: String, operation: FileOperation)
    /// A fetch or truncation named an offset outside `[logStartOffset, logEndOffset]`.
    case offsetOutOfRange(offset: Int64, logStartOffset: Int64, logEndOffset: Int64)
    /// A batch is larger than `max.message.bytes`.
    case recordTooLarge(size: Int, limit: Int)
    /// A batch failed validation (framing, magic, CRC, record count...). Nothing was written.
    case invalidRecords(RecordBatchError)
    /// The batches are well formed but not acceptable here (a control batch from a client,
    /// offsets that go backwards in a follower append...). Nothing was written.
    case invalidBatch(reason: String)
    /// A CreateTime batch's timestamp is further from the broker's clock than
    /// `message.timestamp.before.max.ms` / `after.max.ms` allow.
    case invalidTimestamp(timestamp: Int64, now: Int64, reason: String)
    /// A topic config value is malformed or out of range.
    case invalidConfig(key: String, value: String, reason: String)
    /// A file the log owns cannot be parsed (a malformed `leader-epoch-checkpoint`, for example).
    case corruptFile(path: String, reason: String)
    /// The log was closed; no further operation is accepted.
    case logClosed(directory: String)
    /// The directory's `partition.metadata` names another topic id than the one the log was
    /// opened for: it holds the data of another incarnation of a topic of the same name
    /// (Kafka's InconsistentTopicIdException).
    case inconsistentTopicId(directory: String, expected: KafkaUUID, found: KafkaUUID)
    /// An idempotent producer's batch does not follow its previous one.
    case outOfOrderSequence(producerId: Int64, sequence: Int32, expected: Int32)
    /// A producer the log has no sequence for (never seen, expired, or only its markers are
    /// left) wrote a batch that does not start at sequence 0.
    case unknownProducerId(producerId: Int64, sequence: Int32)
    /// An idempotent producer wrote with an epoch older than the one the log has seen.
    case invalidProducerEpoch(producerId: Int64, epoch: Int16, current: Int16)
    /// A transaction marker came from a coordinator older than the one that wrote the
    /// producer's previous marker.
    case transactionCoordinatorFenced(producerId: Int64, coordinatorEpoch: Int32, current: Int32)
    /// A producer with an open transaction wrote a non-transactional batch.
    case invalidTransactionState(producerId: Int64)

    /// The system call behind an ``io(errno:path:operation:)`` failure.
    public enum FileOperation: String, Sendable, Equatable {
        case open, read, write, sync, truncate, stat, rename, unlink, close, duplicate
        case createDirectory, listDirectory, syncDirectory
    }

    /// Whether the failure means the disk may not hold what the log believes it holds: a failed
    /// write, fsync, truncation or rename. Such a failure takes the log directory offline.
    public var isDiskFailure: Bool {
        switch self {
        case .diskFull, .io: true
        default: false
        }
    }

    /// Maps a failed call's errno to an error, singling out a full disk.
    static func failure(_ operation: FileOperation, path: String, errno code: Int32) -> StorageError {
        if code == ENOSPC || code == EDQUOT {
            return .diskFull(path: path)
        }
        return .io(errno: code, path: path, operation: operation)
    }

    public var description: String {
        switch self {
        case .diskFull(let path):
            "no space left on device while writing \(path)"
        case .appendRefusedForSpace(let path):
            "no space left on device for an append to \(path); nothing was written"
        case .directoryOffline(let directory, let cause):
            "log directory \(directory) is offline after an I/O failure: \(cause)"
        case .io(let code, let path, let operation):
            "\(operation.rawValue) failed for \(path): \(Self.message(for: code)) (errno \(code))"
        case .offsetOutOfRange(let offset, let start, let end):
            "offset \(offset) is out of range [\(start), \(end)]"
        case .recordTooLarge(let size, let limit):
            "record batch of \(size) bytes exceeds max.message.bytes (\(limit))"
        case .invalidRecords(let error):
            "invalid records: \(error)"
        case .invalidBatch(let reason):
            "invalid batch: \(reason)"
        case .invalidTimestamp(let timestamp, let now, let reason):
            "timestamp \(timestamp) rejected at broker time \(now): \(reason)"
        case .invalidConfig(let key, let value, let reason):
            "invalid value \"\(value)\" for configuration \(key): \(reason)"
        case .corruptFile(let path, let reason):
            "\(path) is corrupt: \(reason)"
        case .logClosed(let directory):
            "the log in \(directory) is closed"
        case .inconsistentTopicId(let directory, let expected, let found):
            "\(directory) holds the data of topic id \(found), not \(expected)"
        case .outOfOrderSequence(let producerId, let sequence, let expected):
            "out of order sequence number for producer \(producerId): \(sequence) (expected \(expected))"
        case .unknownProducerId(let producerId, let sequence):
            "no sequence is known for producer \(producerId) (expired or never seen): its batch must start at 0, not \(sequence)"
        case .invalidProducerEpoch(let producerId, let epoch, let current):
            "producer \(producerId) epoch \(epoch) is older than the current epoch \(current)"
        case .transactionCoordinatorFenced(let producerId, let coordinatorEpoch, let current):
            "marker for producer \(producerId) from coordinator epoch \(coordinatorEpoch), older than \(current)"
        case .invalidTransactionState(let producerId):
            "expected a transactional write from producer \(producerId), which has an open transaction"
        }
    }

    private static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}
