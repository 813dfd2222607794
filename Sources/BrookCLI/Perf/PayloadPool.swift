import NIOCore

/// Record values for the producer benchmark: pseudo-random upper-case letters, as
/// kafka-producer-perf-test makes them, drawn from one buffer made at start-up with a fixed seed.
/// Each record's value is a zero-copy slice starting at a different place, so that consecutive
/// records differ (and compression sees realistic, not identical, input) without any
/// per-record allocation.
struct PayloadPool {
    private static let spread = 4_093
    private let letters: ByteBuffer
    let recordSize: Int

    init(recordSize: Int, seed: UInt64 = 0x5EED_B00C) {
        self.recordSize = recordSize
        var generator = SplitMix64(state: seed)
        var letters = ByteBuffer()
        letters.reserveCapacity(recordSize + Self.spread)
        for _ in 0..<(recordSize + Self.spread) {
            letters.writeInteger(UInt8(65 + generator.next() % 26))
        }
        self.letters = letters
    }

    /// The value of record `index`.
    func value(_ index: Int) -> ByteBuffer {
        letters.getSlice(at: (index &* 1_237) % Self.spread, length: recordSize)!
    }
}

/// Sebastiano Vigna's SplitMix64: a tiny, seedable generator.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
