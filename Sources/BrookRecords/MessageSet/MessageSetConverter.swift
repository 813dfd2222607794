import NIOCore

/// Converts between legacy message sets (magic 0/1) and v2 record batches.
public enum MessageSetConverter {
    /// Up-converts a legacy message set into ONE v2 batch holding the same keys, values and
    /// timestamps (magic 0 messages have none: -1), at offset deltas following the messages'
    /// relative order. The batch uses `compression` when given (a topic's codec, so that the
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
        guard let first = messages.first else { throw .empty }
        let codec = compression
            ?? entries.lazy.compactMap { CompressionCodec(rawValue: Int8($0.compressionBits)) }.first { $0 != .none } ?? .none
        let logAppendTime = entries.contains { $0.timestampType == .logAppendTime }
        var configuration = RecordBatchBuilder.Configuration(compression: codec)
        configuration.compressionLevel = compressionLevel
        configuration.timestampType = logAppendTime ? .logAppendTime : .createTime
        var builder = RecordBatchBuilder(configuration: configuration)
        var previous = first.offset
        var delta: Int32 = 0
        for (index, message) in messages.enumerated() {
            if index > 0 {
                // Keep gaps between increasing offsets; anything else just counts up.
                let step = message.offset &- previous
                delta = step > 0 && step <= Int64(Int32.max - delta) ? delta + Int32(step) : delta + 1
            }
            previous = message.offset
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
