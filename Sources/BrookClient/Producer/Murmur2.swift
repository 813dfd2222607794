/// MurmurHash2 (32-bit, seed 0x9747b28c) exactly as the Java client's `Utils.murmur2` computes
/// it, so that keys land on the partitions Java producers (and librdkafka's `murmur2_random`
/// partitioner) put them on.
public enum Murmur2 {
    /// The hash of `bytes`.
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> Int32 where Bytes.Element == UInt8, Bytes.Index == Int {
        let length = bytes.count
        let seed: UInt32 = 0x9747_b28c
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        var h = seed ^ UInt32(truncatingIfNeeded: length)
        let start = bytes.startIndex
        let blocks = length / 4
        for block in 0..<blocks {
            let i = start + block * 4
            var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = start + blocks * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(bytes[tail + 2]) << 16
            h ^= UInt32(bytes[tail + 1]) << 8
            h ^= UInt32(bytes[tail])
            h = h &* m
        case 2:
            h ^= UInt32(bytes[tail + 1]) << 8
            h ^= UInt32(bytes[tail])
            h = h &* m
        case 1:
            h ^= UInt32(bytes[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition the Java client's default partitioner gives a keyed record:
    /// `(murmur2(key) & 0x7fffffff) % partitions`.
    public static func partition<Bytes: Collection>(forKey key: Bytes, partitions: Int32) -> Int32
    where Bytes.Element == UInt8, Bytes.Index == Int {
        precondition(partitions > 0, "a topic has at least one partition")
        return (hash(key) & 0x7fff_ffff) % partitions
    }
}
