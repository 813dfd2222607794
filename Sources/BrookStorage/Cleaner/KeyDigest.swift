/// A 128-bit digest of a record key, standing in for the key inside ``OffsetMap``.
///
/// Two keys with equal digests are treated as the same key, so the digest must be wide and well
/// mixed: at 128 bits, a collision among a billion keys has a probability near 10^-21. The
/// function is the MurmurHash3 x64 128-bit construction (public domain): 16-byte blocks mixed
/// into two 64-bit lanes, then a tail and a finalisation that avalanches every input bit into
/// both halves. It is deterministic across processes and platforms (little-endian reading of
/// the key bytes), unlike Swift's `Hasher`, so a map can be rebuilt identically. Not
/// cryptographic: compaction only needs collision resistance against accidental keys, as Kafka's
/// use of MD5 did.
///
/// Pure; allocates nothing.
public struct KeyDigest: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    private static let c1: UInt64 = 0x87c3_7b91_1142_53d5
    private static let c2: UInt64 = 0x4cf5_ad43_2745_937f

    /// The digest of `bytes`.
    public init(of bytes: UnsafeRawBufferPointer, seed: UInt64 = 0x9e37_79b9_7f4a_7c15) {
        var h1 = seed
        var h2 = seed
        let length = bytes.count
        let blocks = length / 16

        for block in 0..<blocks {
            let k1Raw = bytes.loadUnaligned(fromByteOffset: block * 16, as: UInt64.self)
            let k2Raw = bytes.loadUnaligned(fromByteOffset: block * 16 + 8, as: UInt64.self)
            h1 ^= Self.mixK1(UInt64(littleEndian: k1Raw))
            h1 = Self.rotl(h1, 27) &+ h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            h2 ^= Self.mixK2(UInt64(littleEndian: k2Raw))
            h2 = Self.rotl(h2, 31) &+ h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }

        // Tail: up to 15 bytes, little-endian into two words.
        let tailStart = blocks * 16
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        var index = length - 1
        while index >= tailStart {
            let byte = UInt64(bytes[index])
            let position = index - tailStart
            if position >= 8 {
                k2 |= byte << UInt64((position - 8) * 8)
            } else {
                k1 |= byte << UInt64(position * 8)
            }
            index -= 1
        }
        if length - tailStart > 8 { h2 ^= Self.mixK2(k2) }
        if length - tailStart > 0 { h1 ^= Self.mixK1(k1) }

        h1 ^= UInt64(length)
        h2 ^= UInt64(length)
        h1 = h1 &+ h2
        h2 = h2 &+ h1
        h1 = Self.finalMix(h1)
        h2 = Self.finalMix(h2)
        h1 = h1 &+ h2
        h2 = h2 &+ h1
        self.init(high: h1, low: h2)
    }

    /// The digest of `bytes`.
    public init(of bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { KeyDigest(of: $0) }
    }

    @inline(__always)
    private static func rotl(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }

    @inline(__always)
    private static func mixK1(_ k: UInt64) -> UInt64 {
        rotl(k &* c1, 31) &* c2
    }

    @inline(__always)
    private static func mixK2(_ k: UInt64) -> UInt64 {
        rotl(k &* c2, 33) &* c1
    }

    @inline(__always)
    private static func finalMix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
