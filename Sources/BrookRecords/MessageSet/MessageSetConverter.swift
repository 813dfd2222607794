import NIOCore

/// Converts between legacy message sets (magic 0/1) and v2 record batches.
public enum MessageSetConverter {
    /// Up-converts a legacy message set into ONE v2 batch holding the same keys, values and
    /// timestamps (magic 0 messages have none: -1), at offset deltas 0, 1, 2, ... in the messages'
    /// order: like Kafka, the offsets a producer wrote are ignored (the log assigns its own), so
    /// no client-chosen offset reaches the arithmetic. The batch uses `compression` when given (a topic's codec, so that the
    /// batch is encoded once), else the codec of the first compressed wrapper (none if none).
    ///
    /// - Parameters:
    ///   - compression: the codec of the v2 batch; nil keeps the message set's.
    ///   - compressionLevel: the codec level, nil for the codec's default.
    public static func convertToV2(
        _ messageSet: ByteBuffer,
        compression: CompressionCodec? = nil,
        compressionLevel: Int32? = nil,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws(MessageSetError) -> ByteBuffer {
        let entries = try MessageSetReader.entries(in: messageSet)
        let messages = try MessageSetReader.messages(in: messageSet, maxDecompressedBytes: maxDecompressedBytes)
        guard !messages.isEmpty else { throw .empty }
        let codec = compression
            ?? entries.lazy.compactMap { CompressionCodec(rawValue: Int8($0.compressionBits)) }.first { $0 != .none } ?? .none
        let logAppendTime = entries.contains { $0.timestampType == .logAppendTime }
        var configuration = RecordBatchBuilder.Configuration(compression: codec)
        configuration.compressionLevel = compressionLevel
        configuration.timestampType = logAppendTime ? .logAppendTime : .createTime
        var builder = RecordBatchBuilder(configuration: configuration)
        guard messages.count <= Int(Int32.max) else { throw .conversionFailed(.invalidInput(reason: "\(messages.count) messages do not fit one batch")) }
        for (index, message) in messages.enumerated() {
            let delta = Int32(index)
            do {
                try builder.append(offsetDelta: delta, timestamp: message.timestamp, key: message.key, value: message.value)
            } catch {
                throw .conversionFailed(error)
            }
        }
        do {
            return try builder.build()
        } catch {
            throw .conversionFailed(error)
        }
    }
}
