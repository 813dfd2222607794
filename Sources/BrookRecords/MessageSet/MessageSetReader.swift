import NIOCore

/// Reads legacy message sets (magic 0 and 1), validating each message's CRC and unwrapping
/// compressed wrapper messages (gzip, snappy raw or xerial-framed, lz4).
public enum MessageSetReader {
    /// The magic byte of the first entry of `buffer` (byte 16 both for messages and v2 batches),
    /// or nil when the buffer is too short to tell.
    public static func magic(of buffer: ByteBuffer) -> Int8? {
        buffer.getInteger(at: buffer.readerIndex + 16, as: Int8.self)
    }

    /// Every message of `buffer`, wrapper messages replaced by the messages they carry.
    ///
    /// - Parameter allowsTruncatedTail: ignore a trailing partial message (as fetch responses
    ///   may end), instead of throwing.
    public static func messages(
        in buffer: ByteBuffer,
        allowsTruncatedTail: Bool = false,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws(MessageSetError) -> [LegacyMessage] {
        var output: [LegacyMessage] = []
        try read(buffer, nested: false, allowsTruncatedTail: allowsTruncatedTail, maxDecompressedBytes: maxDecompressedBytes, into: &output)
        return output
    }

    /// The top-level entries of `buffer` without unwrapping.
    public static func entries(in buffer: ByteBuffer, allowsTruncatedTail: Bool = false) throws(MessageSetError) -> [LegacyMessage] {
        var cursor = buffer
        var output: [LegacyMessage] = []
        while cursor.readableBytes > 0 {
            guard let message = try readOne(&cursor, allowsTruncatedTail: allowsTruncatedTail) else { break }
            output.append(message)
        }
        return output
    }

    private static func read(
        _ buffer: ByteBuffer, nested: Bool, allowsTruncatedTail: Bool, maxDecompressedBytes: Int,
        into output: inout [LegacyMessage]
    ) throws(MessageSetError) {
        for message in try entries(in: buffer, allowsTruncatedTail: allowsTruncatedTail) {
            guard message.compressionBits != 0 else {
                output.append(message)
                continue
            }
            guard !nested else { throw .corruptMessage(reason: "compressed message inside a compressed message") }
            guard let codec = CompressionCodec(rawValue: Int8(message.compressionBits)), codec != .zstd else {
                throw .unsupportedCompression(message.compressionBits)
            }
            guard let value = message.value else { throw .corruptMessage(reason: "compressed wrapper message has a null value") }
            let inflated: ByteBuffer
            do {
                inflated = try codec.decompress(value, maxOutputBytes: maxDecompressedBytes)
            } catch {
                // Magic 0 LZ4 from old Kafka clients: retry with the frame header checksum fixed.
                guard codec == .lz4, message.magic == 0, let repaired = LegacyLZ4.repairedFrameHeader(value),
                      let retried = try? codec.decompress(repaired, maxOutputBytes: maxDecompressedBytes) else {
                    throw .decompressionFailed(codec: codec, reason: error)
                }
                inflated = retried
            }
            var inner: [LegacyMessage] = []
            try read(inflated, nested: true, allowsTruncatedTail: false, maxDecompressedBytes: maxDecompressedBytes, into: &inner)
            guard let last = inner.last else { throw .corruptMessage(reason: "compressed wrapper message holds no messages") }
            // Magic 1 wrappers carry relative inner offsets and the absolute offset of the last one.
            let shift: Int64 = message.magic >= 1 ? message.offset &- last.offset : 0
            for var entry in inner {
                entry.offset = entry.offset &+ shift
                if message.magic >= 1 && message.timestampType == .logAppendTime {
                    entry.timestamp = message.timestamp
                    entry.attributes |= 0x8
                }
                output.append(entry)
            }
        }
    }

    /// Reads one message; nil for a tolerated truncated tail.
    private static func readOne(_ cursor: inout ByteBuffer, allowsTruncatedTail: Bool) throws(MessageSetError) -> LegacyMessage? {
        let available = cursor.readableBytes
        guard available >= LegacyMessage.logOverhead,
              let offset = cursor.getInteger(at: cursor.readerIndex, as: Int64.self),
              let size = cursor.getInteger(at: cursor.readerIndex + 8, as: Int32.self) else {
            if allowsTruncatedTail { return nil }
            throw .truncated(needed: LegacyMessage.logOverhead, available: available)
        }
        guard size >= Int32(LegacyMessage.minimumSize(magic: 0)) else { throw .invalidMessageSize(size) }
        let total = LegacyMessage.logOverhead + Int(size)
        guard available >= total else {
            if allowsTruncatedTail { return nil }
            throw .truncated(needed: total, available: available)
        }
        var body = cursor.getSlice(at: cursor.readerIndex + LegacyMessage.logOverhead, length: Int(size))!
        cursor.moveReaderIndex(forwardBy: total)

        let storedCRC = body.readInteger(as: UInt32.self)!
        let magic = body.getInteger(at: body.readerIndex, as: Int8.self)!
        guard magic == 0 || magic == 1 else { throw .invalidMagic(magic) }
        guard Int(size) >= LegacyMessage.minimumSize(magic: magic) else { throw .invalidMessageSize(size) }
        let computed = CRC32.checksum(body)
        guard computed == storedCRC else { throw .crcMismatch(expected: storedCRC, actual: computed) }
        body.moveReaderIndex(forwardBy: 1)
        let attributes = body.readInteger(as: Int8.self)!
        let timestamp: Int64 = magic == 1 ? body.readInteger(as: Int64.self)! : -1
        let key = try readNullable(&body, field: "key")
        let value = try readNullable(&body, field: "value")
        guard body.readableBytes == 0 else {
            throw .corruptMessage(reason: "\(body.readableBytes) bytes after the value")
        }
        return LegacyMessage(offset: offset, magic: magic, attributes: attributes, timestamp: timestamp, key: key, value: value)
    }

    private static func readNullable(_ body: inout ByteBuffer, field: String) throws(MessageSetError) -> ByteBuffer? {
        guard let length = body.readInteger(as: Int32.self) else {
            throw .corruptMessage(reason: "\(field) length is missing")
        }
        if length == -1 { return nil }
        guard length >= 0 else { throw .corruptMessage(reason: "negative \(field) length \(length)") }
        guard let bytes = body.readSlice(length: Int(length)) else {
            throw .corruptMessage(reason: "\(field) length \(length) runs past the message end")
        }
        return bytes
    }
}
