import BrookModel

/// A leader epoch and the first offset written in it.
public struct EpochEntry: Sendable, Equatable, CustomStringConvertible {
    public var epoch: LeaderEpoch
    public var startOffset: Int64

    public init(epoch: LeaderEpoch, startOffset: Int64) {
        self.epoch = epoch
        self.startOffset = startOffset
    }

    public var description: String { "\(epoch.rawValue) \(startOffset)" }
}

/// Which leader epoch wrote which offsets: entries with increasing epochs and start offsets,
/// learnt from the partitionLeaderEpoch of appended batches. Answers OffsetForLeaderEpoch and
/// tells a follower where to truncate.
///
/// Persisted in `leader-epoch-checkpoint` (see ``LeaderEpochCheckpoint``) whenever it changes.
/// Thread safety: a value, kept in the partition's state.
package struct LeaderEpochCache: Sendable, Equatable {
    package private(set) var entries: [EpochEntry] = []

    package init(_ entries: [EpochEntry] = []) {
        self.entries = entries
    }

    package var latest: EpochEntry? { entries.last }

    /// Records that `epoch` starts at `startOffset`. Same epoch again: only an earlier start
    /// offset changes anything. A new epoch first removes the entries it contradicts (an epoch
    /// at or above it, or a start offset at or after its own), as after a follower truncation.
    /// Returns whether the cache changed.
    @discardableResult
    package mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        guard epoch >= 0, startOffset >= 0 else { return false }
        if let latest, latest.epoch.rawValue == epoch, latest.startOffset <= startOffset { return false }
        entries.removeAll { $0.epoch.rawValue >= epoch || $0.startOffset >= startOffset }
        entries.append(EpochEntry(epoch: LeaderEpoch(epoch), startOffset: startOffset))
        return true
    }

    /// Forgets epochs that start at or after `endOffset` (the log was truncated there).
    @discardableResult
    package mutating func truncateFromEnd(_ endOffset: Int64) -> Bool {
        let before = entries.count
        entries.removeAll { $0.startOffset >= endOffset }
        return entries.count != before
    }

    /// The log now starts at `startOffset`: the epoch in force there starts there, older ones go.
    @discardableResult
    mutating func truncateFromStart(_ startOffset: Int64) -> Bool {
        guard let lastBefore = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        if lastBefore == 0 && entries[0].startOffset == startOffset { return false }
        var kept = entries[lastBefore]
        kept.startOffset = startOffset
        entries.removeSubrange(0...lastBefore)
        entries.insert(kept, at: 0)
        return true
    }

    /// The epoch of the batch holding `offset`, if known.
    func epoch(forOffset offset: Int64) -> LeaderEpoch? {
        entries.last { $0.startOffset <= offset }?.epoch
    }

    /// OffsetForLeaderEpoch: for the latest epoch, (epoch, logEndOffset); for an older one, the
    /// largest known epoch ≤ it and the start offset of the first epoch above it; for an epoch
    /// below every known one, (that epoch, the first start offset). Nil ("undefined") for an
    /// epoch above the latest, or when nothing is known.
    package func endOffset(for epoch: LeaderEpoch, logEndOffset: Int64) -> EpochEndOffset? {
        guard let latest else { return nil }
        if epoch == latest.epoch { return EpochEndOffset(epoch: epoch, endOffset: Offset(logEndOffset)) }
        guard let higher = entries.first(where: { $0.epoch > epoch }) else { return nil }
        let floor = entries.last { $0.epoch <= epoch }
        return EpochEndOffset(epoch: floor?.epoch ?? epoch, endOffset: Offset(higher.startOffset))
    }
}
