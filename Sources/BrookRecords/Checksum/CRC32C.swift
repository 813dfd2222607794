import CCRC32C
import NIOCore

/// CRC-32C (Castagnoli), the checksum Kafka stores in every v2 record batch.
///
/// Backed by the `CCRC32C` C target: the SSE4.2 `crc32` instruction over three interleaved streams
/// where the CPU has it, slicing-by-8 tables elsewhere. Values chain like zlib's `crc32`:
/// `update(update(0, a), b) == checksum(a ++ b)`.
public enum CRC32C {
    /// CRC-32C of the readable bytes of `buffer` (no copy).
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        update(0, buffer)
    }

    /// Continues the finished CRC `crc` (0 to start) over the readable bytes of `buffer`.
    public static func update(_ crc: UInt32, _ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { update(crc, $0) }
    }

    /// Continues the finished CRC `crc` (0 to start) over `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return brook_crc32c_update(crc, base, bytes.count)
    }

    /// CRC-32C of a byte sequence.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let fast = bytes.withContiguousStorageIfAvailable { update(0, UnsafeRawBufferPointer($0)) }
        if let fast { return fast }
        let array = Array(bytes)
        return array.withUnsafeBytes { update(0, $0) }
    }

    /// Same as ``update(_:_:)-(_,UnsafeRawBufferPointer)`` but always uses the portable tables;
    /// for tests that compare both paths.
    public static func portableUpdate(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return brook_crc32c_portable(crc, base, bytes.count)
    }

    /// Whether this CPU computes CRC-32C with a hardware instruction.
    public static var isHardwareAccelerated: Bool {
        brook_crc32c_hardware_available() != 0
    }
}
