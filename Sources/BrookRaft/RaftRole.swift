import BrookModel

/// Where a replica stands in its current epoch (KRaft's EpochState classes).
public enum RaftRole: Equatable, Sendable {
    /// Knows the epoch but no leader in it.
    case unattached
    /// Replicates from `leader`.
    case follower(leader: BrokerID)
    /// Asking for pre-votes (KIP-996) before it stands for the next epoch.
    case prospective(Ballot)
    /// Standing for election in the current epoch.
    case candidate(Ballot)
    /// Leads the current epoch.
    case leader(LeaderProgress)
    /// Led the current epoch and gave it up; waits for a successor.
    case resigned

    /// Who answered a (pre-)vote round.
    public struct Ballot: Equatable, Sendable {
        public var granted: Set<BrokerID> = []
        public var rejected: Set<BrokerID> = []
    }

    /// What the leader knows of the other replicas.
    public struct LeaderProgress: Equatable, Sendable {
        /// The offset of the leader's epoch-start entry: nothing is committed in this epoch
        /// until it is.
        public var epochStartOffset: Offset
        /// Each replica's log end (voters' and observers'), as its last fetch showed.
        public var voterEnd: [BrokerID: Offset] = [:]
        /// When each replica last fetched.
        public var lastFetch: [BrokerID: Int64] = [:]
        /// Voters that have acknowledged BeginQuorumEpoch or fetched in this epoch.
        public var acknowledged: Set<BrokerID> = []
        public var beginEpochSentAt: Int64 = .min
    }

    public var name: String {
        switch self {
        case .unattached: "unattached"
        case .follower: "follower"
        case .prospective: "prospective"
        case .candidate: "candidate"
        case .leader: "leader"
        case .resigned: "resigned"
        }
    }
}
