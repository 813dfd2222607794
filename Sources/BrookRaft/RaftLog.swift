import BrookModel
import NIOCore

/// The log a Raft replica replicates: `__cluster_metadata` on disk, or memory in simulation.
///
/// Offsets are dense; each entry takes `recordCount` of them. Appends go to the end; only a
/// follower whose log diverged from its leader's truncates, and never below the high watermark.
/// Entries up to `durableEndOffset` survive a crash; later ones may not.
///
/// Snapshots (KIP-630) stand for a committed prefix: once one is taken, the entries below its
/// end may be removed (`deletePrefix`), and the log then starts at `startSnapshot`'s end. A
/// replica whose fetch falls below a leader's log start fetches the leader's latest snapshot
/// instead and installs it (`installSnapshot`), which replaces its whole log.
public protocol RaftLog {
    /// The offset the next appended entry gets.
    var endOffset: Offset { get }
    /// Entries below this offset are on stable storage.
    var durableEndOffset: Offset { get }
    /// The epoch of the last entry; the start snapshot's when the log holds no entry, or
    /// `.none` when it holds nothing at all.
    var lastEpoch: LeaderEpoch { get }
    /// The snapshot that ends where the log's first entry starts (its end offset and the epoch
    /// of the last entry it holds); nil while the log starts at offset 0.
    var startSnapshot: EpochEndOffset? { get }
    /// The newest snapshot this replica holds, which it sends to replicas that need one.
    var latestSnapshot: EpochEndOffset? { get }
    /// The voter set the start snapshot records, if it records one.
    var startVoters: Set<BrokerID>? { get }
    /// Up to `limit` whole entries from the one at `offset` (an entry boundary), ending at or
    /// before `end`.
    func entries(from offset: Offset, below end: Offset, limit: Int) -> [RaftEntry]
    /// The largest epoch at or below `epoch` that has entries, and where its entries end (the
    /// start snapshot's when only it reaches that epoch).
    func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset
    /// Up to `maxBytes` of snapshot `id` from byte `position`, with the snapshot's whole size;
    /// nil when this replica does not hold that snapshot.
    func readSnapshot(_ id: EpochEndOffset, from position: Int64, maxBytes: Int) -> SnapshotChunk?
    /// Appends entries at `endOffset`, in order.
    mutating func append(_ entries: [RaftEntry])
    /// Removes every entry that ends after `offset`.
    mutating func truncate(to offset: Offset)
    /// Makes every appended entry durable.
    mutating func flush()
    /// Stores `bytes`, snapshot `id` fetched whole from the leader, durably, and replaces the
    /// whole log with it: the log then starts and ends at `id`'s end offset.
    mutating func installSnapshot(_ id: EpochEndOffset, bytes: ByteBuffer)
    /// Removes the entries below `snapshot`'s end offset, which must be one of this log's
    /// snapshots and committed; `snapshot` becomes the start snapshot.
    mutating func deletePrefix(upTo snapshot: EpochEndOffset)
}

extension RaftLog {
    /// The offset of the log's first entry: everything below it is in the start snapshot.
    public var startOffset: Offset { startSnapshot?.endOffset ?? Offset(0) }
}

/// A piece of a snapshot, as FetchSnapshot carries it.
public struct SnapshotChunk: Equatable, Sendable {
    public var bytes: ByteBuffer
    /// The size of the whole snapshot in bytes.
    public var size: Int64

    public init(bytes: ByteBuffer, size: Int64) {
        self.bytes = bytes
        self.size = size
    }
}

/// A `RaftLog` held in memory: for tests and the deterministic simulation, which can drop its
/// unflushed tail to model a crash. Its snapshots are kept (durably) beside the entries.
public struct InMemoryRaftLog: RaftLog, Sendable {
    public private(set) var storedEntries: [RaftEntry] = []
    /// The offset of each stored entry.
    public private(set) var baseOffsets: [Offset] = []
    public private(set) var durableEndOffset = Offset(0)
    public private(set) var endOffset = Offset(0)
    public private(set) var startSnapshot: EpochEndOffset?
    /// The snapshots held, by id, and the voter set each records.
    public private(set) var snapshots: [EpochEndOffset: ByteBuffer] = [:]
    public private(set) var snapshotVoters: [EpochEndOffset: Set<BrokerID>] = [:]
    /// Reads the voter set out of a snapshot's bytes, for snapshots installed from a leader.
    public var votersInSnapshot: @Sendable (ByteBuffer) -> Set<BrokerID>? = { _ in nil }

    public init(entries: [RaftEntry] = []) {
        append(entries)
        flush()
    }

    public var lastEpoch: LeaderEpoch { storedEntries.last?.epoch ?? startSnapshot?.epoch ?? .none }

    public var startVoters: Set<BrokerID>? { startSnapshot.flatMap { snapshotVoters[$0] } }

    public var latestSnapshot: EpochEndOffset? {
        snapshots.keys.max { ($0.endOffset, $0.epoch) < ($1.endOffset, $1.epoch) }
    }

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
        if let last = storedEntries.lastIndex(where: { $0.epoch <= epoch }) {
            return EpochEndOffset(epoch: storedEntries[last].epoch, endOffset: end(ofIndex: last))
        }
        if let start = startSnapshot, start.epoch <= epoch { return start }
        return .unknown
    }

    public func readSnapshot(_ id: EpochEndOffset, from position: Int64, maxBytes: Int) -> SnapshotChunk? {
        guard let bytes = snapshots[id], position >= 0, position <= Int64(bytes.readableBytes) else { return nil }
        let length = min(max(0, maxBytes), bytes.readableBytes - Int(position))
        return SnapshotChunk(
            bytes: bytes.getSlice(at: bytes.readerIndex + Int(position), length: length) ?? ByteBuffer(),
            size: Int64(bytes.readableBytes))
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
        endOffset = storedEntries.indices.last.map(end(ofIndex:)) ?? startOffset
        durableEndOffset = min(durableEndOffset, endOffset)
    }

    public mutating func flush() {
        durableEndOffset = endOffset
    }

    /// Keeps `bytes` as snapshot `id`, taken of this replica's own committed state, with the
    /// voter set at its end.
    public mutating func storeSnapshot(_ id: EpochEndOffset, bytes: ByteBuffer, voters: Set<BrokerID>? = nil) {
        snapshots[id] = bytes
        snapshotVoters[id] = voters
    }

    public mutating func installSnapshot(_ id: EpochEndOffset, bytes: ByteBuffer) {
        snapshots = [id: bytes]
        snapshotVoters = votersInSnapshot(bytes).map { [id: $0] } ?? [:]
        storedEntries.removeAll()
        baseOffsets.removeAll()
        startSnapshot = id
        endOffset = id.endOffset
        durableEndOffset = id.endOffset
    }

    public mutating func deletePrefix(upTo snapshot: EpochEndOffset) {
        guard snapshots[snapshot] != nil, snapshot.endOffset > startOffset, snapshot.endOffset <= endOffset else { return }
        let kept = index(atOrAfter: snapshot.endOffset)
        storedEntries.removeFirst(kept)
        baseOffsets.removeFirst(kept)
        startSnapshot = snapshot
        // Older snapshots are no longer needed: the new start one covers them.
        snapshots = snapshots.filter { $0.key.endOffset >= snapshot.endOffset }
        snapshotVoters = snapshotVoters.filter { $0.key.endOffset >= snapshot.endOffset }
    }

    /// What survives a power cut: the entries that were flushed.
    public mutating func loseUnflushedTail() {
        truncate(to: durableEndOffset)
    }
}
