/// The largest epoch at or below a requested one and the offset where its entries end
/// (exclusive): what OffsetForLeaderEpoch answers, and what a follower truncates to when its log
/// diverges from the leader's (partition replicas and the metadata quorum alike).
public struct EpochEndOffset: Hashable, Sendable, CustomStringConvertible {
    public var epoch: LeaderEpoch
    /// The first offset after the epoch (the log end offset for the latest epoch).
    public var endOffset: Offset

    public init(epoch: LeaderEpoch, endOffset: Offset) {
        self.epoch = epoch
        self.endOffset = endOffset
    }

    /// No epoch at or below the requested one: the log must be read from its start.
    public static let unknown = EpochEndOffset(epoch: .none, endOffset: Offset(0))

    public var description: String { "(epoch \(epoch), end \(endOffset))" }
}
