import NIOCore

/// Old Kafka (magic 0) wrote LZ4 frames whose header checksum also covered the 4 magic bytes,
/// which the LZ4 library rejects. ``repairedFrameHeader(_:)`` rewrites that byte to the
/// checksum of the frame descriptor alone, as the LZ4 frame format defines it.
enum LegacyLZ4 {
    static func repairedFrameHeader(_ input: ByteBuffer) -> ByteBuffer? {
        let start = input.readerIndex
        guard input.getInteger(at: start, endianness: .little, as: UInt32.self) == 0x184D_2204,
              let flags = input.getInteger(at: start + 4, as: UInt8.self) else { return nil }
        let descriptorLength = 2 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        guard let descriptor = input.getBytes(at: start + 4, length: descriptorLength),
              input.readableBytes > 4 + descriptorLength else { return nil }
        var repaired = input
        repaired.setInteger(UInt8(truncatingIfNeeded: xxh32(descriptor) >> 8), at: start + 4 + descriptorLength)
        return repaired
    }

    /// XXH32 with seed 0 (the LZ4 frame header checksum).
    static func xxh32(_ bytes: [UInt8]) -> UInt32 {
        let p1: UInt32 = 2_654_435_761, p2: UInt32 = 2_246_822_519, p3: UInt32 = 3_266_489_917
        let p4: UInt32 = 668_265_263, p5: UInt32 = 374_761_393
        func word(_ i: Int) -> UInt32 {
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }
        func round(_ acc: UInt32, _ input: UInt32) -> UInt32 {
            ((acc &+ input &* p2).rotl(13)) &* p1
        }
        var index = 0
        var hash: UInt32
        if bytes.count >= 16 {
            var v1 = p1 &+ p2, v2 = p2, v3: UInt32 = 0, v4: UInt32 = 0 &- p1
            while index + 16 <= bytes.count {
                v1 = round(v1, word(index)); v2 = round(v2, word(index + 4))
                v3 = round(v3, word(index + 8)); v4 = round(v4, word(index + 12))
                index += 16
            }
            hash = v1.rotl(1) &+ v2.rotl(7) &+ v3.rotl(12) &+ v4.rotl(18)
        } else {
            hash = p5
        }
        hash = hash &+ UInt32(truncatingIfNeeded: bytes.count)
        while index + 4 <= bytes.count {
            hash = (hash &+ word(index) &* p3).rotl(17) &* p4
            index += 4
        }
        while index < bytes.count {
            hash = (hash &+ UInt32(bytes[index]) &* p5).rotl(11) &* p1
            index += 1
        }
        hash ^= hash >> 15
        hash = hash &* p2
        hash ^= hash >> 13
        hash = hash &* p3
        hash ^= hash >> 16
        return hash
    }
}

extension UInt32 {
    fileprivate func rotl(_ count: UInt32) -> UInt32 { (self << count) | (self >> (32 - count)) }
}
