import BrookModel

/// What a replica must remember across restarts before it acts: its epoch, the leader it knows
/// in that epoch, and whom it voted for in it (KRaft's `quorum-state` file).
///
/// A replica persists a changed state before it sends anything that depends on it, so that a
/// restarted replica cannot vote twice in one epoch or forget a leader it acknowledged.
public struct QuorumState: Equatable, Sendable, CustomStringConvertible {
    public var epoch: LeaderEpoch
    public var leader: BrokerID?
    public var votedFor: BrokerID?

    public init(epoch: LeaderEpoch, leader: BrokerID? = nil, votedFor: BrokerID? = nil) {
        self.epoch = epoch
        self.leader = leader
        self.votedFor = votedFor
    }

    /// The state of a replica that has never run.
    public static let initial = QuorumState(epoch: LeaderEpoch(0))

    public var description: String {
        "epoch \(epoch) leader \(leader.map(String.init(describing:)) ?? "-") voted \(votedFor.map(String.init(describing:)) ?? "-")"
    }
}
