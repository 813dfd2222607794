import BrookProtocol
import BrookRecords
import NIOCore

extension ProduceHandler {
    /// Produce v0-2 carry legacy message sets (magic 0/1): they are converted to one v2 batch
    /// before append. A v2 batch in these versions is rejected (Kafka: CORRUPT_MESSAGE).
    static func upConvertedRecords(_ records: ByteBuffer, version: Int16) -> Result<ByteBuffer, MessageSetError> {
        guard version < 3 else { return .success(records) }
        if let magic = MessageSetReader.magic(of: records), magic >= 2 {
            return .failure(.invalidMagic(magic))
        }
        return Result { () throws(MessageSetError) in try MessageSetConverter.convertToV2(records) }
    }
}

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
