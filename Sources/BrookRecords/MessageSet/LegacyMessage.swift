import CZlib
import NIOCore

/// One message of a legacy message set (magic 0 or 1), as it sits in the log before v2 batches.
///
/// Wire layout (big-endian):
///
///     offset      int64
///     size        int32   bytes after this field
///     crc         uint32  CRC-32 (IEEE) of magic..end
///     magic       int8    0 or 1
///     attributes  int8    bits 0-2 codec, bit 3 timestamp type (magic 1: 1 = LogAppendTime)
///     timestamp   int64   magic 1 only
///     key         int32 length (-1 null) + bytes
///     value       int32 length (-1 null) + bytes
///
/// A compressed *wrapper* message carries a whole nested message set, compressed, as its value.
public struct LegacyMessage: Sendable, Equatable {
    /// Offset as written: absolute for plain messages; for the inner messages of a magic 1
    /// wrapper the reader turns relative offsets into absolute ones.
    public var offset: Int64
    public var magic: Int8
    public var attributes: Int8
    /// -1 (no timestamp) for magic 0.
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?

    public init(offset: Int64, magic: Int8, attributes: Int8 = 0, timestamp: Int64 = -1, key: ByteBuffer?, value: ByteBuffer?) {
        self.offset = offset
        self.magic = magic
        self.attributes = attributes
        self.timestamp = timestamp
        self.key = key
        self.value = value
    }

    /// Size of the offset and size fields.
    public static let logOverhead = 12
    /// Bytes after the size field in a message with null key and value.
    public static func minimumSize(magic: Int8) -> Int { magic == 0 ? 14 : 22 }
    /// Codec bits of the attributes.
    public var compressionBits: Int { Int(attributes & 0x7) }
    public var timestampType: TimestampType { magic >= 1 && attributes & 0x8 != 0 ? .logAppendTime : .createTime }
}

/// CRC-32 (IEEE 802.3, zlib's `crc32`), the checksum of magic 0 and 1 messages.
public enum CRC32 {
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { bytes in
            var crc: uLong = crc32(0, nil, 0)
            var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
            var remaining = bytes.count
            while remaining > 0, let pointer = base {
                let chunk = min(remaining, Int(UInt32.max >> 1))
                crc = crc32(crc, pointer, uInt(chunk))
                base = pointer + chunk
                remaining -= chunk
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }
}
