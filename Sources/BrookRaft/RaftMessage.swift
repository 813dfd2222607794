import BrookModel

/// The messages replicas exchange, independent of the wire: BrookBroker maps each to KRaft's
/// Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot requests and responses.
public enum RaftMessage: Equatable, Sendable {
    case vote(Vote)
    case voteResult(VoteResult)
    case beginEpoch(BeginEpoch)
    case beginEpochResult(BeginEpochResult)
    case endEpoch(EndEpoch)
    case fetch(Fetch)
    case fetchResult(FetchResult)
    case fetchSnapshot(FetchSnapshot)
    case fetchSnapshotResult(FetchSnapshotResult)

    /// A request for a vote. With `preVote` (KIP-996) it asks whether the replica would vote
    /// for the candidate in `epoch`, changing nothing at the voter.
    public struct Vote: Equatable, Sendable {
        public var epoch: LeaderEpoch
        public var candidate: BrokerID
        public var lastEpoch: LeaderEpoch
        public var endOffset: Offset
        public var preVote: Bool

        public init(epoch: LeaderEpoch, candidate: BrokerID, lastEpoch: LeaderEpoch, endOffset: Offset, preVote: Bool) {
            self.epoch = epoch
            self.candidate = candidate
            self.lastEpoch = lastEpoch
            self.endOffset = endOffset
            self.preVote = preVote
        }
    }

    public struct VoteResult: Equatable, Sendable {
        /// The voter's epoch and the leader it knows in it: a candidate behind them gives up.
        public var epoch: LeaderEpoch
        public var leader: BrokerID?
        public var granted: Bool
        public var preVote: Bool

        public init(epoch: LeaderEpoch, leader: BrokerID?, granted: Bool, preVote: Bool) {
            self.epoch = epoch
            self.leader = leader
            self.granted = granted
            self.preVote = preVote
        }
    }

    /// A new leader announcing itself to the voters.
    public struct BeginEpoch: Equatable, Sendable {
        public var epoch: LeaderEpoch
        public var leader: BrokerID

        public init(epoch: LeaderEpoch, leader: BrokerID) {
            self.epoch = epoch
            self.leader = leader
        }
    }

    public struct BeginEpochResult: Equatable, Sendable {
        public var epoch: LeaderEpoch
        public var leader: BrokerID?

        public init(epoch: LeaderEpoch, leader: BrokerID?) {
            self.epoch = epoch
            self.leader = leader
        }
    }

    /// A leader giving up its epoch; voters listed in `preferredSuccessors` (most caught up
    /// first) stand for election sooner.
    public struct EndEpoch: Equatable, Sendable {
        public var epoch: LeaderEpoch
        public var leader: BrokerID
        public var preferredSuccessors: [BrokerID]

        public init(epoch: LeaderEpoch, leader: BrokerID, preferredSuccessors: [BrokerID]) {
            self.epoch = epoch
            self.leader = leader
            self.preferredSuccessors = preferredSuccessors
        }
    }

    /// A follower's or observer's pull: it holds every entry below `fetchOffset`, the last of
    /// them written in `lastFetchedEpoch`. `correlation` pairs the answer with the request.
    public struct Fetch: Equatable, Sendable {
        public var epoch: LeaderEpoch
        public var replica: BrokerID
        public var fetchOffset: Offset
        public var lastFetchedEpoch: LeaderEpoch
        public var correlation: UInt64

        public init(epoch: LeaderEpoch, replica: BrokerID, fetchOffset: Offset, lastFetchedEpoch: LeaderEpoch, correlation: UInt64) {
            self.epoch = epoch
            self.replica = replica
            self.fetchOffset = fetchOffset
            self.lastFetchedEpoch = lastFetchedEpoch
            self.correlation = correlation
        }
    }

    public struct FetchResult: Equatable, Sendable {
        public enum Outcome: Equatable, Sendable {
            /// `entries` start at the request's fetch offset.
            case entries([RaftEntry])
            /// The fetcher's log diverges from the leader's: truncate to this epoch's end.
            case diverging(EpochEndOffset)
            /// The leader's log no longer holds what the fetcher needs: fetch this snapshot.
            case snapshot(EpochEndOffset)
            /// The replica asked is not the leader of `epoch` (or the fetcher's epoch is stale).
            case notLeader
        }

        public var epoch: LeaderEpoch
        public var leader: BrokerID?
        public var outcome: Outcome
        public var highWatermark: Offset
        /// The request's fetch offset, echoed: where `entries` start.
        public var fetchOffset: Offset
        public var correlation: UInt64

        public init(epoch: LeaderEpoch, leader: BrokerID?, outcome: Outcome, highWatermark: Offset, fetchOffset: Offset, correlation: UInt64) {
            self.epoch = epoch
            self.leader = leader
            self.outcome = outcome
            self.highWatermark = highWatermark
            self.fetchOffset = fetchOffset
            self.correlation = correlation
        }
    }

    /// A replica's pull of a piece of the leader's snapshot `snapshot`, from byte `position`.
    public struct FetchSnapshot: Equatable, Sendable {
        public var epoch: LeaderEpoch
        public var replica: BrokerID
        public var snapshot: EpochEndOffset
        public var position: Int64
        public var correlation: UInt64

        public init(epoch: LeaderEpoch, replica: BrokerID, snapshot: EpochEndOffset, position: Int64, correlation: UInt64) {
            self.epoch = epoch
            self.replica = replica
            self.snapshot = snapshot
            self.position = position
            self.correlation = correlation
        }
    }

    public struct FetchSnapshotResult: Equatable, Sendable {
        public enum Outcome: Equatable, Sendable {
            /// Bytes of the snapshot from the request's position, and the snapshot's whole size.
            case chunk(SnapshotChunk)
            /// The leader no longer holds that snapshot (a newer one replaced it): fetch again.
            case notFound
            /// The replica asked is not the leader of `epoch` (or the fetcher's epoch is stale).
            case notLeader
        }

        public var epoch: LeaderEpoch
        public var leader: BrokerID?
        public var outcome: Outcome
        /// The request's snapshot and position, echoed.
        public var snapshot: EpochEndOffset
        public var position: Int64
        public var correlation: UInt64

        public init(
            epoch: LeaderEpoch, leader: BrokerID?, outcome: Outcome, snapshot: EpochEndOffset, position: Int64, correlation: UInt64
        ) {
            self.epoch = epoch
            self.leader = leader
            self.outcome = outcome
            self.snapshot = snapshot
            self.position = position
            self.correlation = correlation
        }
    }

    /// The epoch the sender is in, which every message carries.
    public var epoch: LeaderEpoch {
        switch self {
        case .vote(let message): message.epoch
        case .voteResult(let message): message.epoch
        case .beginEpoch(let message): message.epoch
        case .beginEpochResult(let message): message.epoch
        case .endEpoch(let message): message.epoch
        case .fetch(let message): message.epoch
        case .fetchResult(let message): message.epoch
        case .fetchSnapshot(let message): message.epoch
        case .fetchSnapshotResult(let message): message.epoch
        }
    }
}

/// What a replica asks its driver to do, in order: persist the quorum state before sending
/// anything that follows it.
public enum RaftAction: Equatable, Sendable {
    case persist(QuorumState)
    case send(to: BrokerID, RaftMessage)
}
