import BrookModel
import NIOCore

/// One entry of the replicated log: the leader epoch it was written in and its bytes.
///
/// A leader starts its epoch with a control entry (KRaft's LeaderChangeMessage) so that the
/// epoch's first offset can be committed before anything proposed in it is exposed.
public struct RaftEntry: Equatable, Sendable {
    public var epoch: LeaderEpoch
    public var payload: ByteBuffer
    /// True for the leader's epoch-start entry; data entries carry what was proposed.
    public var isControl: Bool

    public init(epoch: LeaderEpoch, payload: ByteBuffer, isControl: Bool = false) {
        self.epoch = epoch
        self.payload = payload
        self.isControl = isControl
    }
}

/// The largest epoch at or below a requested one and the offset where it ends (exclusive):
/// what OffsetForLeaderEpoch answers and what a follower truncates to when its log diverges.
public struct EpochEndOffset: Equatable, Sendable, CustomStringConvertible {
    public var epoch: LeaderEpoch
    public var endOffset: Offset

    public init(epoch: LeaderEpoch, endOffset: Offset) {
        self.epoch = epoch
        self.endOffset = endOffset
    }

    /// No epoch at or below the requested one: the log must be read from its start.
    public static let unknown = EpochEndOffset(epoch: .none, endOffset: Offset(0))

    public var description: String { "(epoch \(epoch), end \(endOffset))" }
}
