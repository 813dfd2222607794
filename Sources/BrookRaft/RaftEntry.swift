import BrookModel
import NIOCore

/// One entry of the replicated log, appended and replicated whole: the leader epoch it was
/// written in and its bytes (on disk, one record batch of `recordCount` records).
///
/// An entry takes `recordCount` offsets, so offsets count records as Kafka's do; replicas only
/// ever fetch, commit and truncate at entry boundaries, which keeps a batch of metadata records
/// (one change) all or nothing. A leader starts its epoch with a control entry (KRaft's
/// LeaderChangeMessage) so that the epoch's first offset can be committed before anything
/// proposed in it is exposed.
public struct RaftEntry: Equatable, Sendable {
    public var epoch: LeaderEpoch
    public var payload: ByteBuffer
    /// How many offsets the entry takes (at least 1).
    public var recordCount: Int
    /// True for the leader's epoch-start entry and voter changes; data entries carry what was
    /// proposed.
    public var isControl: Bool
    /// Set on a voter change (KIP-853's VotersRecord): the voters from this entry on. A replica
    /// uses the latest voter set in its log, committed or not.
    public var voters: Set<BrokerID>?

    public init(
        epoch: LeaderEpoch, payload: ByteBuffer, recordCount: Int = 1, isControl: Bool = false, voters: Set<BrokerID>? = nil
    ) {
        precondition(recordCount >= 1, "an entry takes at least one offset")
        self.epoch = epoch
        self.payload = payload
        self.recordCount = recordCount
        self.isControl = isControl || voters != nil
        self.voters = voters
    }
}
