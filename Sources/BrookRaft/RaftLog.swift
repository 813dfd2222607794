import BrookModel

/// The log a Raft replica replicates: `__cluster_metadata` on disk, or memory in simulation.
///
/// Offsets start at 0 and are dense; each entry takes `recordCount` of them. Appends go to the
/// end; only a follower whose log diverged from its leader's truncates, and never below the
/// high watermark. Entries up to `durableEndOffset` survive a crash; later ones may not.
public protocol RaftLog {
    /// The offset the next appended entry gets.
    var endOffset: Offset { get }
    /// Entries below this offset are on stable storage.
    var durableEndOffset: Offset { get }
    /// The epoch of the last entry, or `.none` when the log is empty.
    var lastEpoch: LeaderEpoch { get }
    /// Up to `limit` whole entries from the one at `offset` (an entry boundary), ending at or
    /// before `end`.
    func entries(from offset: Offset, below end: Offset, limit: Int) -> [RaftEntry]
    /// The largest epoch at or below `epoch` that has entries, and where its entries end.
    func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset
    /// Appends entries at `endOffset`, in order.
    mutating func append(_ entries: [RaftEntry])
    /// Removes every entry that ends after `offset`.
    mutating func truncate(to offset: Offset)
    /// Makes every appended entry durable.
    mutating func flush()
}

/// A `RaftLog` held in memory: for tests and the deterministic simulation, which can drop its
/// unflushed tail to model a crash.
public struct InMemoryRaftLog: RaftLog, Sendable {
    public private(set) var storedEntries: [RaftEntry] = []
    /// The offset of each stored entry.
    private var baseOffsets: [Offset] = []
    public private(set) var durableEndOffset = Offset(0)
    public private(set) var endOffset = Offset(0)

    public init(entries: [RaftEntry] = []) {
        append(entries)
        flush()
    }

    public var lastEpoch: LeaderEpoch { storedEntries.last?.epoch ?? .none }

    /// The index of the first entry at or after `offset`.
    private func index(atOrAfter offset: Offset) -> Int {
        var low = 0
        var high = baseOffsets.count
        while low < high {
            let middle = (low + high) / 2
            if baseOffsets[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func end(ofIndex index: Int) -> Offset {
        Offset(baseOffsets[index].rawValue + Int64(storedEntries[index].recordCount))
    }

    public func entries(from offset: Offset, below end: Offset, limit: Int) -> [RaftEntry] {
        var result: [RaftEntry] = []
        var index = index(atOrAfter: offset)
        while index < storedEntries.count, result.count < limit, self.end(ofIndex: index) <= end {
            result.append(storedEntries[index])
            index += 1
        }
        return result
    }

    public func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset {
        // Entries' epochs never decrease, so the answer is the last entry at or below `epoch`.
        guard let last = storedEntries.lastIndex(where: { $0.epoch <= epoch }) else { return .unknown }
        return EpochEndOffset(epoch: storedEntries[last].epoch, endOffset: end(ofIndex: last))
    }

    public mutating func append(_ entries: [RaftEntry]) {
        for entry in entries {
            baseOffsets.append(endOffset)
            storedEntries.append(entry)
            endOffset = Offset(endOffset.rawValue + Int64(entry.recordCount))
        }
    }

    public mutating func truncate(to offset: Offset) {
        while let last = storedEntries.indices.last, end(ofIndex: last) > offset {
            storedEntries.removeLast()
            baseOffsets.removeLast()
        }
        endOffset = storedEntries.indices.last.map(end(ofIndex:)) ?? Offset(0)
        durableEndOffset = min(durableEndOffset, endOffset)
    }

    public mutating func flush() {
        durableEndOffset = endOffset
    }

    /// What survives a power cut: the entries that were flushed.
    public mutating func loseUnflushedTail() {
        truncate(to: durableEndOffset)
    }
}
