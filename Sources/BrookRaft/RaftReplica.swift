import BrookModel
import NIOCore

/// One replica of a KRaft quorum as a state machine: no I/O, no clock, no threads.
///
/// The driver feeds it messages (`receive`), the passing of time (`tick`), proposals (`propose`)
/// and flushes of its log (`flushLog`); each call returns the actions to carry out, in order.
/// Time is milliseconds on any monotonic clock. Voters elect a leader (with KIP-996 pre-vote),
/// followers and observers pull the log from it with Fetch, and the leader commits an offset
/// (moves the high watermark) once a majority of voters have it on stable storage.
public struct RaftReplica<Log: RaftLog> {
    public let id: BrokerID
    /// The voter set before the log's first voter change: `controller.quorum.voters`, the
    /// bootstrap snapshot's (KIP-853), or the start snapshot's.
    var baseVoters: Set<BrokerID>
    /// The voter changes the log holds, oldest first.
    var voterChanges: [VoterChange] = []
    /// The voters now: the latest voter set in the log, committed or not (KIP-853).
    public var voters: Set<BrokerID> { voterChanges.last?.voters ?? baseVoters }
    public let configuration: RaftConfiguration
    public internal(set) var log: Log
    public internal(set) var quorum: QuorumState
    public internal(set) var role: RaftRole
    /// Entries below this offset are committed: a majority of voters hold them durably.
    public internal(set) var highWatermark = Offset(0)

    var random: SplitMix64
    /// When the role's timer fires: the election timeout of a replica without a leader, the
    /// fetch timeout of a follower.
    var deadline: Int64
    /// When this replica last heard from its leader: a fetch answered, or BeginQuorumEpoch.
    var lastLeaderContact: Int64 = .min
    var pendingFetch: PendingFetch?
    /// The leader's snapshot this follower is fetching, and the bytes received so far.
    var fetchingSnapshot: FetchingSnapshot?
    /// When an unreachable leader last started a pre-vote (`peerUnreachable`).
    var lastUnreachableElection: Int64 = .min / 2
    var nextFetchAt: Int64?
    var nextCorrelation: UInt64 = 1
    /// The voter an observer without a leader asks next.
    var bootstrapCursor = 0
    /// Whom an observer without a leader asks when it knows no voters by id: the driver's ids
    /// for `controller.quorum.bootstrap.servers` (KIP-853), which it maps to addresses.
    public var bootstrapServers: [BrokerID] = []
    var outbox: [RaftAction] = []

    struct PendingFetch: Sendable {
        var target: BrokerID
        var correlation: UInt64
        var fetchOffset: Offset
        var sentAt: Int64
        /// Set for a FetchSnapshot: the byte position asked for.
        var snapshotPosition: Int64?
    }

    /// A snapshot being fetched whole into memory before it is installed (metadata snapshots
    /// are a few megabytes at most).
    struct FetchingSnapshot: Sendable {
        var id: EpochEndOffset
        var received: ByteBuffer
    }

    /// A replica starting from what it persisted (`QuorumState.initial` the first time).
    /// `voters` is the voter set to start from when the log records none (KIP-853 voter changes
    /// in the log, and a start snapshot's voter set, take over from it).
    ///
    /// - Parameter seed: drives the random part of election timeouts, so that a simulation
    ///   replays exactly.
    public init(
        id: BrokerID, voters: Set<BrokerID>, log: Log, state: QuorumState,
        configuration: RaftConfiguration = RaftConfiguration(), seed: UInt64, now: Int64
    ) {
        self.id = id
        self.baseVoters = log.startVoters ?? voters
        self.voterChanges = Self.voterChanges(in: log)
        self.configuration = configuration
        self.log = log
        self.quorum = state
        self.random = SplitMix64(seed: seed)
        // Answers to a previous run's fetches must not match this run's.
        self.nextCorrelation = random.next()
        self.deadline = now
        // Everything a snapshot replaced was committed.
        self.highWatermark = log.startOffset
        // A leader that restarts has resigned: it may have lost its log's unflushed tail.
        if state.leader == id {
            role = .resigned
        } else if let leader = state.leader {
            role = .follower(leader: leader)
        } else {
            role = .unattached
        }
        if case .follower = role {
            deadline = now + configuration.fetchTimeout
        } else {
            deadline = now + randomElectionTimeout()
        }
    }

    /// The correlation of the fetch this replica has in flight, if any.
    public var pendingFetchCorrelation: UInt64? { pendingFetch?.correlation }

    public var isVoter: Bool { voters.contains(id) }
    var majority: Int { voters.count / 2 + 1 }
    public var isLeader: Bool { if case .leader = role { true } else { false } }

    /// The leader this replica knows in its epoch, if it follows or is it.
    public var knownLeader: BrokerID? {
        switch role {
        case .leader: id
        case .follower(let leader): leader
        default: nil
        }
    }

    /// Starts the replica: a sole voter elects itself, a follower starts fetching.
    public mutating func start(now: Int64) -> [RaftAction] {
        if isVoter, voters.count == 1, !isLeader {
            startElection(now: now)
        } else if case .follower(let leader) = role {
            sendFetch(to: leader, now: now)
        }
        return drainOutbox()
    }

    /// Appends `payloads` as entries of the leader's epoch, each taking one offset. Returns the
    /// offset of the first, or nil when this replica is not the leader.
    public mutating func propose(_ payloads: [ByteBuffer]) -> Offset? {
        propose(payloads.map { (payload: $0, recordCount: 1) })
    }

    /// Appends entries of `recordCount` offsets each (record batches) in the leader's epoch.
    public mutating func propose(_ entries: [(payload: ByteBuffer, recordCount: Int)]) -> Offset? {
        guard isLeader else { return nil }
        let first = log.endOffset
        appendToLog(entries.map { RaftEntry(epoch: quorum.epoch, payload: $0.payload, recordCount: $0.recordCount) })
        return first
    }

    /// Makes the log durable; a leader may then commit further.
    public mutating func flushLog(now: Int64) -> [RaftAction] {
        log.flush()
        if case .leader(var progress) = role {
            advanceHighWatermark(&progress)
            role = .leader(progress)
        }
        return drainOutbox()
    }

    /// Gives `body` the log to change outside Raft's own steps: a driver whose log keeps its
    /// snapshots stores one it took here. It must not touch entries.
    public mutating func updateLog(_ body: (inout Log) -> Void) {
        body(&log)
    }

    /// Removes the log's entries below `snapshot`, one of its snapshots (taken by the driver of
    /// what it applied): only a committed prefix goes.
    public mutating func deletePrefix(upTo snapshot: EpochEndOffset) {
        guard snapshot.endOffset <= highWatermark, snapshot.endOffset <= log.durableEndOffset else { return }
        log.deletePrefix(upTo: snapshot)
        voterSetMovedToLogStart()
    }

    /// The driver could not reach `peer`: its connection was refused or reset, as when the
    /// process is gone. A voter following it stops waiting out the fetch timeout and asks for
    /// pre-votes at once (at most once per election timeout); the others grant them only if
    /// they have lost the leader too, so a leader still alive for a majority is not disturbed.
    /// Without pre-vote this does nothing: a real election on a hint would be disruptive.
    public mutating func peerUnreachable(_ peer: BrokerID, now: Int64) -> [RaftAction] {
        guard configuration.preVote, mayStandForElection, case .follower(let leader) = role, leader == peer,
            now - lastUnreachableElection >= configuration.electionTimeout
        else { return drainOutbox() }
        lastUnreachableElection = now
        startElection(now: now)
        return drainOutbox()
    }

    /// Fires whatever timer is due.
    public mutating func tick(now: Int64) -> [RaftAction] {
        switch role {
        case .leader(var progress):
            tickLeader(&progress, now: now)
        case .follower(let leader):
            if now >= deadline {
                loseLeader(now: now)
            } else if fetchIsDue(now: now) {
                if fetchingSnapshot != nil { sendFetchSnapshot(to: leader, now: now) } else { sendFetch(to: leader, now: now) }
            }
        case .unattached:
            if mayStandForElection {
                if now >= deadline { startElection(now: now) }
            } else if fetchIsDue(now: now) {
                sendFetch(to: nextBootstrapVoter(), now: now)
            }
        case .prospective:
            if now >= deadline { endPreVote(now: now) }
        case .candidate, .resigned:
            // A replica removed from the voters follows the log as an observer.
            if now >= deadline { if mayStandForElection { startElection(now: now) } else { becomeUnattached(now: now) } }
        }
        return drainOutbox()
    }

    /// Handles one message from `sender`.
    public mutating func receive(_ message: RaftMessage, from sender: BrokerID, now: Int64) -> [RaftAction] {
        switch message {
        case .vote(let vote):
            handleVote(vote, from: sender, now: now)
        case .voteResult(let result):
            handleVoteResult(result, from: sender, now: now)
        case .beginEpoch(let begin):
            handleBeginEpoch(begin, from: sender, now: now)
        case .beginEpochResult(let result):
            if result.epoch > quorum.epoch {
                observeEpoch(result.epoch, leader: result.leader, now: now)
            } else if result.epoch == quorum.epoch, case .leader(var progress) = role {
                progress.acknowledged.insert(sender)
                role = .leader(progress)
            }
        case .endEpoch(let end):
            handleEndEpoch(end, now: now)
        case .fetch(let fetch):
            handleFetch(fetch, from: sender, now: now)
        case .fetchResult(let result):
            handleFetchResult(result, from: sender, now: now)
        case .fetchSnapshot(let fetch):
            handleFetchSnapshot(fetch, from: sender, now: now)
        case .fetchSnapshotResult(let result):
            handleFetchSnapshotResult(result, from: sender, now: now)
        }
        return drainOutbox()
    }

    // MARK: Shared steps

    mutating func drainOutbox() -> [RaftAction] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    mutating func send(_ message: RaftMessage, to replica: BrokerID) {
        outbox.append(.send(to: replica, message))
    }

    /// Records a new quorum state; the driver persists it before the sends that follow.
    mutating func persist(_ state: QuorumState) {
        guard state != quorum else { return }
        quorum = state
        outbox.append(.persist(state))
    }

    mutating func randomElectionTimeout() -> Int64 {
        configuration.electionTimeout + Int64(random.next() % UInt64(max(1, configuration.electionTimeout)))
    }

    /// Moves to a higher epoch seen in a message: following `leader` when it names one.
    mutating func observeEpoch(_ epoch: LeaderEpoch, leader: BrokerID?, now: Int64) {
        guard epoch > quorum.epoch else { return }
        persist(QuorumState(epoch: epoch, leader: leader))
        if let leader, leader != id {
            becomeFollower(of: leader, now: now)
        } else {
            becomeUnattached(now: now)
        }
    }

    mutating func becomeUnattached(now: Int64) {
        role = .unattached
        pendingFetch = nil
        fetchingSnapshot = nil
        nextFetchAt = nil
        deadline = now + randomElectionTimeout()
    }

    mutating func becomeFollower(of leader: BrokerID, now: Int64) {
        if quorum.leader != leader {
            persist(QuorumState(epoch: quorum.epoch, leader: leader, votedFor: quorum.votedFor))
        }
        role = .follower(leader: leader)
        deadline = now + configuration.fetchTimeout
        pendingFetch = nil
        fetchingSnapshot = nil
        sendFetch(to: leader, now: now)
    }

    /// A follower that stopped hearing from its leader: a voter stands for election, an observer
    /// looks for the leader again.
    mutating func loseLeader(now: Int64) {
        if mayStandForElection {
            startElection(now: now)
        } else {
            role = .unattached
            pendingFetch = nil
            fetchingSnapshot = nil
            deadline = now + configuration.fetchTimeout
            sendFetch(to: nextBootstrapVoter(), now: now)
        }
    }

    mutating func nextBootstrapVoter() -> BrokerID {
        // The voters it knows first, then the bootstrap servers (one of which may be itself).
        let sorted = voters.filter { $0 != id }.sorted() + bootstrapServers
        guard !sorted.isEmpty else { return id }
        defer { bootstrapCursor = (bootstrapCursor + 1) % max(1, sorted.count) }
        return sorted[bootstrapCursor % sorted.count]
    }
}

extension RaftReplica: Sendable where Log: Sendable {}
