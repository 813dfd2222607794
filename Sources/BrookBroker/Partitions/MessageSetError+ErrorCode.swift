import BrookProtocol
import BrookRecords

extension MessageSetError {
    /// Framing and checksum failures are CORRUPT_MESSAGE, as in Kafka.
    var errorCode: ErrorCode {
        switch self {
        case .unsupportedCompression: .unsupportedCompressionType
        case .conversionFailed(let error): error.errorCode
        default: .corruptMessage
        }
    }
}
