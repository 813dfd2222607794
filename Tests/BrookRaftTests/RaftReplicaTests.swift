import BrookModel
import BrookRaft
import NIOCore
import Testing

/// The replica's rules one message at a time, without the simulation's randomness.
@Suite struct RaftReplicaTests {
    typealias Replica = RaftReplica<InMemoryRaftLog>
    static let voters: Set<BrokerID> = [BrokerID(1), BrokerID(2), BrokerID(3)]

    static func replica(
        _ id: Int32, voters: Set<BrokerID> = voters, log: InMemoryRaftLog = InMemoryRaftLog(),
        state: QuorumState = .initial, preVote: Bool = true, maxSnapshotChunkBytes: Int = 1 << 20
    ) -> Replica {
        var configuration = RaftConfiguration()
        configuration.preVote = preVote
        configuration.maxSnapshotChunkBytes = maxSnapshotChunkBytes
        return Replica(id: BrokerID(id), voters: voters, log: log, state: state, configuration: configuration, seed: UInt64(id), now: 0)
    }

    static func entries(_ epochs: [Int32]) -> InMemoryRaftLog {
        InMemoryRaftLog(entries: epochs.map { RaftEntry(epoch: LeaderEpoch($0), payload: ByteBuffer(string: "e\($0)")) })
    }

    static func sends(_ actions: [RaftAction]) -> [(BrokerID, RaftMessage)] {
        actions.compactMap { if case .send(let to, let message) = $0 { (to, message) } else { nil } }
    }

    @Test func aSoleVoterLeadsAtOnceAndCommitsWhatItFlushed() {
        var replica = Self.replica(1, voters: [BrokerID(1)])
        let actions = replica.start(now: 0)
        #expect(replica.isLeader)
        #expect(actions.contains(.persist(QuorumState(epoch: LeaderEpoch(1), leader: BrokerID(1), votedFor: BrokerID(1)))))
        #expect(replica.propose([ByteBuffer(string: "a")]) == Offset(1))
        #expect(replica.highWatermark == Offset(0), "nothing is committed before it is durable")
        _ = replica.flushLog(now: 1)
        #expect(replica.highWatermark == Offset(2))
    }

    @Test func aPreVoteChangesNothingAndAVoteIsCastOncePerEpoch() {
        var voter = Self.replica(2)
        let preVote = RaftMessage.Vote(epoch: LeaderEpoch(1), candidate: BrokerID(1), lastEpoch: .none, endOffset: Offset(0), preVote: true)
        let preActions = voter.receive(.vote(preVote), from: BrokerID(1), now: 10)
        #expect(voter.quorum == .initial, "a pre-vote persists nothing")
        #expect(Self.sends(preActions).first?.1 == .voteResult(.init(epoch: LeaderEpoch(0), leader: nil, granted: true, preVote: true)))

        var vote = preVote
        vote.preVote = false
        let actions = voter.receive(.vote(vote), from: BrokerID(1), now: 11)
        let beforeSending = actions.prefix { if case .persist = $0 { true } else { false } }
        #expect(beforeSending.last == .persist(QuorumState(epoch: LeaderEpoch(1), votedFor: BrokerID(1))), "the vote is persisted before it is sent")
        #expect(Self.sends(actions).first?.1 == .voteResult(.init(epoch: LeaderEpoch(1), leader: nil, granted: true, preVote: false)))

        // A restarted voter remembers its vote: another candidate in the same epoch is refused.
        var restarted = Self.replica(2, state: voter.quorum)
        vote.candidate = BrokerID(3)
        let refused = restarted.receive(.vote(vote), from: BrokerID(3), now: 12)
        #expect(Self.sends(refused).first?.1 == .voteResult(.init(epoch: LeaderEpoch(1), leader: nil, granted: false, preVote: false)))
    }

    @Test func aCandidateWithAShorterLogIsRefused() {
        var voter = Self.replica(2, log: Self.entries([1, 1, 2]), state: QuorumState(epoch: LeaderEpoch(2)))
        for (lastEpoch, endOffset) in [(1, 5), (2, 2)] {
            let vote = RaftMessage.Vote(
                epoch: LeaderEpoch(3), candidate: BrokerID(1), lastEpoch: LeaderEpoch(Int32(lastEpoch)),
                endOffset: Offset(Int64(endOffset)), preVote: false
            )
            let actions = voter.receive(.vote(vote), from: BrokerID(1), now: 10)
            guard case .voteResult(let result) = Self.sends(actions).first?.1 else { Issue.record("no answer"); return }
            #expect(!result.granted, "candidate log (\(lastEpoch), \(endOffset)) is behind (2, 3)")
        }
    }

    @Test func aFollowerThatHearsFromItsLeaderRefusesPreVotes() {
        var follower = Self.replica(2, state: QuorumState(epoch: LeaderEpoch(1), leader: BrokerID(1)))
        let fetch = Self.sends(follower.start(now: 0))
        guard case .fetch(let request) = fetch.first?.1 else { Issue.record("no fetch"); return }
        _ = follower.receive(
            .fetchResult(.init(epoch: LeaderEpoch(1), leader: BrokerID(1), outcome: .entries([]), highWatermark: Offset(0), fetchOffset: Offset(0), correlation: request.correlation)),
            from: BrokerID(1), now: 5
        )
        let preVote = RaftMessage.Vote(epoch: LeaderEpoch(2), candidate: BrokerID(3), lastEpoch: .none, endOffset: Offset(0), preVote: true)
        guard case .voteResult(let fresh) = Self.sends(follower.receive(.vote(preVote), from: BrokerID(3), now: 100)).first?.1 else { return }
        #expect(!fresh.granted)
        guard case .voteResult(let stale) = Self.sends(follower.receive(.vote(preVote), from: BrokerID(3), now: 2_100)).first?.1 else { return }
        #expect(stale.granted, "after the fetch timeout without its leader, it would vote")
    }

    @Test func aFollowerTruncatesWhereItsLogDivergesAndIgnoresStaleAnswers() {
        // The follower wrote 2 entries in epoch 2 that the new leader (epoch 3) never had.
        var follower = Self.replica(2, log: Self.entries([1, 1, 2, 2]), state: QuorumState(epoch: LeaderEpoch(3), leader: BrokerID(1)))
        guard case .fetch(let request) = Self.sends(follower.start(now: 0)).first?.1 else { Issue.record("no fetch"); return }
        #expect(request.fetchOffset == Offset(4) && request.lastFetchedEpoch == LeaderEpoch(2))

        var leader = Self.replica(1, log: Self.entries([1, 1, 2]), state: QuorumState(epoch: LeaderEpoch(3), leader: BrokerID(1)))
        // Make the replica lead epoch 3 the way an election would.
        leader = Self.leaderOf(epoch: 3, log: Self.entries([1, 1, 2]))
        let answer = Self.sends(leader.receive(.fetch(request), from: BrokerID(2), now: 1))
        guard case .fetchResult(let result) = answer.first?.1 else { Issue.record("no answer"); return }
        #expect(result.outcome == .diverging(EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(3))))

        // An answer to another request (a previous run's) changes nothing.
        var stale = result
        stale.correlation &+= 1
        _ = follower.receive(.fetchResult(stale), from: BrokerID(1), now: 2)
        #expect(follower.log.endOffset == Offset(4))

        let next = Self.sends(follower.receive(.fetchResult(result), from: BrokerID(1), now: 2))
        #expect(follower.log.endOffset == Offset(3))
        guard case .fetch(let refetch) = next.first?.1 else { Issue.record("no fetch"); return }
        #expect(refetch.fetchOffset == Offset(3) && refetch.lastFetchedEpoch == LeaderEpoch(2))
    }

    @Test func aFollowerBelowTheLeadersLogStartFetchesItsSnapshotInPiecesAndInstallsIt() {
        // The leader's log starts at offset 3: a snapshot (end 3, epoch 2) replaced the entries.
        var log = Self.entries([1, 2, 2])
        let snapshot = EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(3))
        let bytes = ByteBuffer(string: String(repeating: "snapshot-bytes ", count: 10))
        log.storeSnapshot(snapshot, bytes: bytes)
        log.deletePrefix(upTo: snapshot)
        #expect(log.startOffset == Offset(3) && log.lastEpoch == LeaderEpoch(2) && log.storedEntries.isEmpty)
        var leader = Self.leaderOf(epoch: 3, log: log, maxSnapshotChunkBytes: 64)
        _ = leader.flushLog(now: 10_002)
        var follower = Self.replica(2, log: Self.entries([1]), state: QuorumState(epoch: LeaderEpoch(3), leader: BrokerID(1)))
        var outbox = Self.sends(follower.start(now: 10_003))
        var pieces = 0
        // Carry messages between the two until the follower fetches entries again.
        for step in 0..<20 {
            guard let (to, message) = outbox.first, to == BrokerID(1) else { break }
            if case .fetch(let fetch) = message, step > 0 {
                #expect(fetch.fetchOffset == Offset(3) && fetch.lastFetchedEpoch == LeaderEpoch(2))
                break
            }
            let answers = Self.sends(leader.receive(message, from: BrokerID(2), now: 10_004 + Int64(step)))
            guard let (_, answer) = answers.first else { Issue.record("no answer to \(message)"); return }
            if step == 0 { #expect(answer == .fetchResult(.init(
                epoch: LeaderEpoch(3), leader: BrokerID(1), outcome: .snapshot(snapshot), highWatermark: leader.highWatermark,
                fetchOffset: Offset(1), correlation: { if case .fetch(let f) = message { f.correlation } else { 0 } }()))) }
            if case .fetchSnapshotResult = answer { pieces += 1 }
            outbox = Self.sends(follower.receive(answer, from: BrokerID(1), now: 10_004 + Int64(step)))
        }
        #expect(pieces == 3, "150 bytes in pieces of at most 64")
        #expect(follower.log.startSnapshot == snapshot && follower.log.endOffset == Offset(3))
        #expect(follower.log.snapshots[snapshot] == bytes && follower.highWatermark == Offset(3))

        // A snapshot the leader no longer holds is answered as not found.
        let gone = EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(1))
        let answer = Self.sends(leader.receive(
            .fetchSnapshot(.init(epoch: LeaderEpoch(3), replica: BrokerID(2), snapshot: gone, position: 0, correlation: 9)),
            from: BrokerID(2), now: 10_100))
        guard case .fetchSnapshotResult(let result) = answer.first?.1 else { Issue.record("no answer"); return }
        #expect(result.outcome == .notFound)
    }

    /// A replica made leader of `epoch` by a real election among three voters.
    static func leaderOf(epoch: Int32, log: InMemoryRaftLog, maxSnapshotChunkBytes: Int = 1 << 20) -> Replica {
        var replica = Self.replica(
            1, log: log, state: QuorumState(epoch: LeaderEpoch(epoch - 1)), preVote: false, maxSnapshotChunkBytes: maxSnapshotChunkBytes)
        _ = replica.tick(now: 10_000)
        _ = replica.receive(.voteResult(.init(epoch: LeaderEpoch(epoch), leader: nil, granted: true, preVote: false)), from: BrokerID(2), now: 10_001)
        precondition(replica.isLeader)
        return replica
    }

    @Test func aNewLeaderCommitsOldEntriesOnlyWithItsOwnEpochsFirstEntry() {
        var leader = Self.leaderOf(epoch: 3, log: Self.entries([1, 2]))
        _ = leader.flushLog(now: 10_002)
        // Voter 2 holds the two old entries but not the leader's epoch-start entry (offset 2).
        let holdsOld = RaftMessage.Fetch(epoch: LeaderEpoch(3), replica: BrokerID(2), fetchOffset: Offset(2), lastFetchedEpoch: LeaderEpoch(2), correlation: 1)
        _ = leader.receive(.fetch(holdsOld), from: BrokerID(2), now: 10_003)
        #expect(leader.highWatermark == Offset(0), "Raft's rule: an old epoch's entries are not committed by counting replicas")
        var holdsNew = holdsOld
        holdsNew.fetchOffset = Offset(3)
        holdsNew.lastFetchedEpoch = LeaderEpoch(3)
        _ = leader.receive(.fetch(holdsNew), from: BrokerID(2), now: 10_004)
        #expect(leader.highWatermark == Offset(3))
    }

    @Test func aLeaderCutOffFromTheMajorityResigns() {
        var leader = Self.leaderOf(epoch: 1, log: InMemoryRaftLog())
        _ = leader.tick(now: 10_100)
        #expect(leader.isLeader)
        let actions = leader.tick(now: 10_001 + 3_001)
        #expect(leader.role == .resigned)
        #expect(Self.sends(actions).contains { if case .endEpoch = $0.1 { true } else { false } })
    }

    @Test func aRestartedLeaderDoesNotLeadAgainInTheSameEpoch() {
        let replica = Self.replica(1, state: QuorumState(epoch: LeaderEpoch(4), leader: BrokerID(1), votedFor: BrokerID(1)))
        #expect(replica.role == .resigned)
    }

    @Test func aNodeOutsideTheVoterSetCanNeitherStandNorLead() {
        var voter = Self.replica(2)
        let vote = RaftMessage.Vote(epoch: LeaderEpoch(9), candidate: BrokerID(99), lastEpoch: LeaderEpoch(9), endOffset: Offset(1_000), preVote: false)
        let refused = Self.sends(voter.receive(.vote(vote), from: BrokerID(99), now: 1))
        #expect(refused.first?.1 == .voteResult(.init(epoch: LeaderEpoch(0), leader: nil, granted: false, preVote: false)))
        _ = voter.receive(.beginEpoch(.init(epoch: LeaderEpoch(9), leader: BrokerID(99))), from: BrokerID(99), now: 2)
        _ = voter.receive(.endEpoch(.init(epoch: LeaderEpoch(9), leader: BrokerID(99), preferredSuccessors: [])), from: BrokerID(99), now: 3)
        #expect(voter.quorum == .initial, "neither moved its epoch nor made it follow")
    }
}
