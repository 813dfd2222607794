import BrookModel
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
        var generator = SplitMix64(seed: seed)
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

