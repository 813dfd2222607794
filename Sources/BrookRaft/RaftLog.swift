import BrookModel

/// The log a Raft replica replicates: `__cluster_metadata` on disk, or memory in simulation.
///
/// Offsets start at 0 and are dense. Appends go to the end; only a follower whose log diverged
/// from its leader's truncates, and never below the high watermark. Entries up to
/// `durableEndOffset` survive a crash; later ones may not.
public protocol RaftLog {
    /// The offset the next appended entry gets.
    var endOffset: Offset { get }
    /// Entries below this offset are on stable storage.
    var durableEndOffset: Offset { get }
    /// The epoch of the last entry, or `.none` when the log is empty.
    var lastEpoch: LeaderEpoch { get }
    /// Up to `limit` entries starting at `offset` (fewer at the end of the log).
    func entries(from offset: Offset, limit: Int) -> [RaftEntry]
    /// The largest epoch at or below `epoch` that has entries, and where its entries end.
    func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset
    /// Appends entries at `endOffset`, in order.
    mutating func append(_ entries: [RaftEntry])
    /// Removes every entry at or after `offset`.
    mutating func truncate(to offset: Offset)
    /// Makes every appended entry durable.
    mutating func flush()
}

/// A `RaftLog` held in memory: for tests and the deterministic simulation, which can drop its
/// unflushed tail to model a crash.
public struct InMemoryRaftLog: RaftLog, Sendable {
    public private(set) var storedEntries: [RaftEntry] = []
    public private(set) var durableEndOffset = Offset(0)

    public init(entries: [RaftEntry] = []) {
        storedEntries = entries
        durableEndOffset = Offset(Int64(entries.count))
    }

    public var endOffset: Offset { Offset(Int64(storedEntries.count)) }

    public var lastEpoch: LeaderEpoch { storedEntries.last?.epoch ?? .none }

    public func entries(from offset: Offset, limit: Int) -> [RaftEntry] {
        let start = Int(clamping: max(0, offset.rawValue))
        guard start < storedEntries.count else { return [] }
        return Array(storedEntries[start..<min(storedEntries.count, start + limit)])
    }

    public func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset {
        // Entries' epochs never decrease, so the answer is the last entry at or below `epoch`.
        guard let last = storedEntries.lastIndex(where: { $0.epoch <= epoch }) else { return .unknown }
        return EpochEndOffset(epoch: storedEntries[last].epoch, endOffset: Offset(Int64(last + 1)))
    }

    public mutating func append(_ entries: [RaftEntry]) {
        storedEntries.append(contentsOf: entries)
    }

    public mutating func truncate(to offset: Offset) {
        let keep = Int(clamping: max(0, offset.rawValue))
        guard keep < storedEntries.count else { return }
        storedEntries.removeSubrange(keep...)
        durableEndOffset = min(durableEndOffset, endOffset)
    }

    public mutating func flush() {
        durableEndOffset = endOffset
    }

    /// What survives a power cut: the entries that were flushed.
    public mutating func loseUnflushedTail() {
        storedEntries.removeSubrange(Int(durableEndOffset.rawValue)...)
    }
}
