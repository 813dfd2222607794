import Synchronization

/// Hands out producer ids from blocks reserved in the metadata log, so that no id is ever given
/// twice, across restarts and crashes (an unused rest of a block is simply skipped).
final class ProducerIdManager: Sendable {
    /// Ids reserved per metadata write (Kafka's block size).
    static let blockSize: Int64 = 1_000

    private let reserve: @Sendable (Int64) throws -> Range<Int64>
    private let block = Mutex<Range<Int64>>(0..<0)

    /// `reserve(count)` durably reserves `count` new ids and returns them.
    init(reserve: @escaping @Sendable (Int64) throws -> Range<Int64>) {
        self.reserve = reserve
    }

    /// The next unused producer id.
    func next() throws -> Int64 {
        try block.withLock { block in
            if block.isEmpty { block = try reserve(Self.blockSize) }
            let id = block.lowerBound
            block = (id + 1)..<block.upperBound
            return id
        }
    }
}
