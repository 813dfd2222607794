import BrookModel
import BrookBroker
import BrookProtocol
import BrookRecords
import BrookRaft
import NIOCore

extension FuzzTarget {
    /// Hostile quorum traffic: the input is a sequence of KRaft requests and responses (a kind
    /// byte, a version byte, a 16-bit length and that many bytes), each decoded by the generated
    /// code, read by the broker's `RaftWire` and handed to one voter of a three-voter quorum,
    /// with ticks in between. The voter must never trap, its epoch never go back, and its log's
    /// epochs never decrease, whatever the others send.
    public static let quorum = FuzzTarget(
        name: "quorum",
        summary: "KRaft Vote/BeginQuorumEpoch/EndQuorumEpoch/Fetch/FetchSnapshot requests and answers fed to a Raft voter"
    ) { bytes throws(FuzzFailure) in
        var input = FuzzInput(bytes)
        var log = InMemoryRaftLog(entries: [1, 1, 2].map { RaftEntry(epoch: LeaderEpoch($0), payload: ByteBuffer(string: "e")) })
        // A snapshot stands for the first two entries, so fetches below offset 2 get it.
        let snapshot = EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(2))
        log.storeSnapshot(snapshot, bytes: ByteBuffer(string: "snapshot"))
        log.deletePrefix(upTo: snapshot)
        let start = input.byte() % 3
        let state = [
            QuorumState(epoch: LeaderEpoch(2)),
            QuorumState(epoch: LeaderEpoch(2), leader: BrokerID(2), votedFor: BrokerID(2)),
            QuorumState(epoch: LeaderEpoch(2), leader: BrokerID(1), votedFor: BrokerID(1)),
        ][Int(start)]
        var replica = RaftReplica(
            id: BrokerID(1), voters: [BrokerID(1), BrokerID(2), BrokerID(3)], log: log, state: state, seed: 7, now: 0)
        var now: Int64 = 0
        _ = replica.start(now: now)
        var outcome = FuzzOutcome.rejected
        while input.remaining > 0 {
            let kind = input.byte()
            let version = Int16(input.byte() % 18)
            var body = ByteBuffer(bytes: input.take(input.uint16()))
            now += Int64(input.byte()) * 10
            let epochBefore = replica.quorum.epoch
            guard let (message, sender) = Self.quorumMessage(kind: kind, version: version, body: &body, replica: replica) else {
                _ = replica.tick(now: now)
                continue
            }
            outcome = .accepted
            _ = replica.receive(message, from: sender, now: now)
            _ = replica.tick(now: now)
            _ = replica.flushLog(now: now)
            try fuzzCheck(replica.quorum.epoch >= epochBefore, "the quorum epoch went back from \(epochBefore) to \(replica.quorum.epoch)")
            let epochs = replica.log.storedEntries.map(\.epoch)
            try fuzzCheck(zip(epochs, epochs.dropFirst()).allSatisfy { $0 <= $1 }, "the log's epochs decrease: \(epochs)")
        }
        return outcome
    }

    /// One message of the given kind decoded from `body`, with its sender, or nil when the bytes
    /// do not decode or are not a quorum message.
    private static func quorumMessage(
        kind: UInt8, version: Int16, body: inout ByteBuffer, replica: RaftReplica<InMemoryRaftLog>
    ) -> (RaftMessage, BrokerID)? {
        do {
            switch kind % 9 {
            case 0:
                let vote = try RaftWire.vote(from: VoteRequest(from: &body, version: version))
                return (.vote(vote), vote.candidate)
            case 1:
                let begin = try RaftWire.beginEpoch(from: BeginQuorumEpochRequest(from: &body, version: version))
                return (.beginEpoch(begin), begin.leader)
            case 2:
                let end = try RaftWire.endEpoch(from: EndQuorumEpochRequest(from: &body, version: version))
                return (.endEpoch(end), end.leader)
            case 3:
                let fetch = try RaftWire.fetch(from: FetchRequest(from: &body, version: version), correlation: 1)
                return (.fetch(fetch), fetch.replica)
            case 4:
                let vote = RaftMessage.Vote(epoch: replica.quorum.epoch, candidate: replica.id, lastEpoch: .none, endOffset: Offset(0), preVote: version % 2 == 0)
                let result = try RaftWire.voteResult(from: VoteResponse(from: &body, version: version), answering: vote)
                return (.voteResult(result), BrokerID(2 + Int32(version % 2)))
            case 5:
                let result = try RaftWire.beginEpochResult(from: BeginQuorumEpochResponse(from: &body, version: version))
                return (.beginEpochResult(result), BrokerID(2 + Int32(version % 2)))
            case 7:
                let fetch = try RaftWire.fetchSnapshot(from: FetchSnapshotRequest(from: &body, version: version % 2), correlation: 1)
                return (.fetchSnapshot(fetch), fetch.replica)
            case 8:
                // A piece of the snapshot this replica may be fetching.
                guard case .follower(let leader) = replica.role else { return nil }
                let response = try FetchSnapshotResponse(from: &body, version: version % 2)
                guard let partition = response.topics.first?.partitions.first else { return nil }
                let fetch = RaftMessage.FetchSnapshot(
                    epoch: replica.quorum.epoch, replica: replica.id,
                    snapshot: EpochEndOffset(epoch: LeaderEpoch(partition.snapshotId.epoch), endOffset: Offset(partition.snapshotId.endOffset)),
                    position: partition.position, correlation: replica.pendingFetchCorrelation ?? 0)
                return (.fetchSnapshotResult(try RaftWire.fetchSnapshotResult(from: response, answering: fetch)), leader)
            default:
                // An answer to the fetch this replica has in flight, if any.
                guard case .follower(let leader) = replica.role else { return nil }
                let fetch = RaftMessage.Fetch(
                    epoch: replica.quorum.epoch, replica: replica.id, fetchOffset: replica.log.endOffset,
                    lastFetchedEpoch: replica.log.lastEpoch, correlation: replica.pendingFetchCorrelation ?? 0)
                let result = try RaftWire.fetchResult(from: FetchResponse(from: &body, version: max(12, version)), answering: fetch)
                return (.fetchResult(result), leader)
            }
        } catch {
            return nil
        }
    }
}

extension FuzzSeeds {
    /// Conversations a voter could have: each seed a start role, then messages written by the
    /// broker's own `RaftWire` encoders.
    static func quorum() throws -> [Seed] {
        func item<Message: ProtocolMessage>(_ kind: UInt8, _ message: Message, version: Int16) throws -> [UInt8] {
            var body = ByteBuffer()
            try message.write(to: &body, version: version)
            let bytes = Array(body.readableBytesView)
            return [kind, UInt8(version), UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes + [5]
        }
        let cluster = "fuzz"
        var batch = RecordBatchBuilder(configuration: .init(baseOffset: 3))
        batch.append(timestamp: 1, key: nil, value: ByteBuffer(string: "record"))
        var records = try batch.build()
        RecordBatch.setPartitionLeaderEpoch(2, ofBatchAt: 0, in: &records)
        let entries = RaftMessage.FetchResult(
            epoch: LeaderEpoch(2), leader: BrokerID(2),
            outcome: .entries([RaftEntry(epoch: LeaderEpoch(2), payload: records)]),
            highWatermark: Offset(4), fetchOffset: Offset(3), correlation: 0)
        let snapshotId = EpochEndOffset(epoch: LeaderEpoch(1), endOffset: Offset(2))
        let fetchOfLeader = RaftMessage.Fetch(epoch: LeaderEpoch(2), replica: BrokerID(2), fetchOffset: Offset(3), lastFetchedEpoch: LeaderEpoch(2), correlation: 0)
        return [
            ("unattached-vote", [0] + (try item(0, RaftWire.request(
                RaftMessage.Vote(epoch: LeaderEpoch(3), candidate: BrokerID(3), lastEpoch: LeaderEpoch(2), endOffset: Offset(3), preVote: false),
                clusterId: cluster, voter: BrokerID(1)), version: 1))),
            ("unattached-prevote", [0] + (try item(0, RaftWire.request(
                RaftMessage.Vote(epoch: LeaderEpoch(3), candidate: BrokerID(2), lastEpoch: LeaderEpoch(2), endOffset: Offset(5), preVote: true),
                clusterId: cluster, voter: BrokerID(1)), version: 1))),
            ("unattached-begin-epoch", [0] + (try item(1, RaftWire.request(
                RaftMessage.BeginEpoch(epoch: LeaderEpoch(3), leader: BrokerID(3)), clusterId: cluster, voter: BrokerID(1)), version: 1))),
            ("follower-end-epoch", [1] + (try item(2, RaftWire.request(
                RaftMessage.EndEpoch(epoch: LeaderEpoch(2), leader: BrokerID(2), preferredSuccessors: [BrokerID(1), BrokerID(3)]),
                clusterId: cluster), version: 1))),
            ("follower-fetch-answer", [1] + (try item(6, RaftWire.response(entries, answering: fetchOfLeader, version: 17), version: 17))),
            ("leader-fetch", [2] + (try item(3, RaftWire.request(fetchOfLeader, version: 17, clusterId: cluster, maxWaitMs: 0, maxBytes: 1 << 20), version: 17))),
            ("unattached-vote-answer", [0] + (try item(4, RaftWire.response(
                RaftMessage.VoteResult(epoch: LeaderEpoch(2), leader: nil, granted: true, preVote: false)), version: 1))),
            ("unattached-begin-answer", [0] + (try item(5, RaftWire.response(
                RaftMessage.BeginEpochResult(epoch: LeaderEpoch(2), leader: BrokerID(1))), version: 1))),
            ("leader-fetch-below-start", [2] + (try item(3, RaftWire.request(
                RaftMessage.Fetch(epoch: LeaderEpoch(2), replica: BrokerID(3), fetchOffset: Offset(0), lastFetchedEpoch: .none, correlation: 0),
                version: 17, clusterId: cluster, maxWaitMs: 0, maxBytes: 1 << 20), version: 17))),
            ("leader-fetch-snapshot", [2] + (try item(7, RaftWire.request(
                RaftMessage.FetchSnapshot(epoch: LeaderEpoch(2), replica: BrokerID(3), snapshot: snapshotId, position: 2, correlation: 0),
                clusterId: cluster, maxBytes: 1 << 20), version: 1))),
            ("follower-snapshot-then-piece", [1]
                + (try item(6, RaftWire.response(
                    RaftMessage.FetchResult(epoch: LeaderEpoch(2), leader: BrokerID(2), outcome: .snapshot(snapshotId),
                                            highWatermark: Offset(4), fetchOffset: Offset(3), correlation: 0),
                    answering: fetchOfLeader, version: 17), version: 17))
                + (try item(8, RaftWire.response(
                    RaftMessage.FetchSnapshotResult(epoch: LeaderEpoch(2), leader: BrokerID(2),
                                                    outcome: .chunk(SnapshotChunk(bytes: ByteBuffer(string: "snapshot"), size: 8)),
                                                    snapshot: snapshotId, position: 0, correlation: 0),
                    answering: RaftMessage.FetchSnapshot(epoch: LeaderEpoch(2), replica: BrokerID(1), snapshot: snapshotId, position: 0, correlation: 0)),
                    version: 1))),
        ]
    }
}
