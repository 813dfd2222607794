import BrookCoordinator
import BrookProtocol

extension TransactionError {
    /// The code to answer with at `version` of an API that learnt PRODUCER_FENCED in `fencedSince`:
    /// older versions get INVALID_PRODUCER_EPOCH, as in Kafka.
    func code(version: Int16, fencedSince: Int16) -> ErrorCode {
        code == .producerFenced && version < fencedSince ? .invalidProducerEpoch : code
    }
}

extension Result where Failure == TransactionError {
    /// NONE on success, else the error's code at `version` (see ``TransactionError/code(version:fencedSince:)``).
    func errorCode(version: Int16, fencedSince: Int16) -> ErrorCode {
        switch self {
        case .success: .none
        case .failure(let error): error.code(version: version, fencedSince: fencedSince)
        }
    }
}
