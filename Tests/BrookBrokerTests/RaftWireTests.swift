@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookRaft
import BrookRecords
import NIOCore
import Testing

/// Every quorum message survives KRaft's wire format at every version, and what is not a
/// quorum message is refused with a reason.
@Suite struct RaftWireTests {
    /// Encodes `message` at `version` and reads it back.
    static func overTheWire<Message: ProtocolMessage>(_ message: Message, version: Int16) throws -> Message {
        var buffer = ByteBuffer()
        try message.write(to: &buffer, version: version)
        let decoded = try Message(from: &buffer, version: version)
        #expect(buffer.readableBytes == 0)
        return decoded
    }

    @Test(arguments: [false, true])
    func votesAndTheirResults(preVote: Bool) throws {
        let vote = RaftMessage.Vote(epoch: LeaderEpoch(7), candidate: BrokerID(2), lastEpoch: LeaderEpoch(6), endOffset: Offset(420), preVote: preVote)
        for version in VoteRequest.validVersions {
            let request = try Self.overTheWire(RaftWire.request(vote, clusterId: "c1", voter: BrokerID(3)), version: version)
            #expect(try RaftWire.vote(from: request) == vote, "v\(version)")
            let result = RaftMessage.VoteResult(epoch: LeaderEpoch(7), leader: nil, granted: true, preVote: preVote)
            let response = try Self.overTheWire(RaftWire.response(result), version: version)
            #expect(try RaftWire.voteResult(from: response, answering: vote) == result)
        }
    }

    @Test func beginAndEndQuorumEpoch() throws {
        let begin = RaftMessage.BeginEpoch(epoch: LeaderEpoch(3), leader: BrokerID(1))
        let end = RaftMessage.EndEpoch(epoch: LeaderEpoch(3), leader: BrokerID(1), preferredSuccessors: [BrokerID(3), BrokerID(2)])
        for version in BeginQuorumEpochRequest.validVersions {
            let request = try Self.overTheWire(RaftWire.request(begin, clusterId: "c1", voter: BrokerID(2)), version: version)
            #expect(try RaftWire.beginEpoch(from: request) == begin)
            let result = RaftMessage.BeginEpochResult(epoch: LeaderEpoch(3), leader: BrokerID(1))
            #expect(try RaftWire.beginEpochResult(from: Self.overTheWire(RaftWire.response(result), version: version)) == result)
        }
        for version in EndQuorumEpochRequest.validVersions {
            let request = try Self.overTheWire(RaftWire.request(end, clusterId: "c1"), version: version)
            #expect(try RaftWire.endEpoch(from: request) == end, "v\(version) carries the successors in its own field")
        }
    }

    static func batch(epoch: Int32, baseOffset: Int64, values: [String], control: Bool = false) throws -> RaftEntry {
        var configuration = RecordBatchBuilder.Configuration(baseOffset: baseOffset)
        configuration.partitionLeaderEpoch = epoch
        configuration.isControlBatch = control
        var builder = RecordBatchBuilder(configuration: configuration)
        for value in values { builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: value)) }
        return RaftEntry(epoch: LeaderEpoch(epoch), payload: try builder.build(), recordCount: values.count, isControl: control)
    }

    @Test func fetchesAndEveryKindOfAnswer() throws {
        let fetch = RaftMessage.Fetch(epoch: LeaderEpoch(4), replica: BrokerID(2), fetchOffset: Offset(10), lastFetchedEpoch: LeaderEpoch(3), correlation: 99)
        let entries = [
            try Self.batch(epoch: 4, baseOffset: 10, values: ["leader"], control: true),
            try Self.batch(epoch: 4, baseOffset: 11, values: ["a", "b", "c"]),
        ]
        let answers: [RaftMessage.FetchResult.Outcome] = [
            .entries(entries), .entries([]),
            .diverging(EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(8))), .notLeader,
        ]
        for version: Int16 in [12, 13, 14, 15, 16, 17] {  // KRaft needs v12+: LastFetchedEpoch and DivergingEpoch
            let request = try Self.overTheWire(RaftWire.request(fetch, version: version, clusterId: "c1", maxWaitMs: 500, maxBytes: 1 << 20), version: version)
            #expect(RaftWire.isQuorumFetch(request))
            #expect(try RaftWire.fetch(from: request, correlation: 99) == fetch, "v\(version)")
            for outcome in answers {
                let result = RaftMessage.FetchResult(
                    epoch: LeaderEpoch(4), leader: BrokerID(1), outcome: outcome, highWatermark: Offset(12),
                    fetchOffset: fetch.fetchOffset, correlation: 99
                )
                let response = try Self.overTheWire(RaftWire.response(result, answering: fetch, version: version), version: version)
                #expect(try RaftWire.fetchResult(from: response, answering: fetch) == result, "v\(version) \(outcome)")
            }
        }
    }

    @Test func voterChangesSnapshotIdsAndSnapshotPiecesCrossTheWire() throws {
        // A fetched voter change carries its voter set, so a follower uses it at once.
        let voters = [QuorumVoter(id: BrokerID(1), host: "10.0.0.1", port: 9093), QuorumVoter(id: BrokerID(4), host: "10.0.0.4", port: 9093)]
        var batch = try RecordBatch(QuorumVoterRecords.batch(voters, epoch: 3, timestamp: 1))
        batch.setBaseOffset(10)
        let entries = try RaftWire.entries(batch.bytes, from: Offset(10))
        #expect(entries.count == 1 && entries[0].voters == [BrokerID(1), BrokerID(4)] && entries[0].isControl)
        #expect(QuorumVoterRecords.voters(inPayload: entries[0].payload) == voters)

        let fetch = RaftMessage.Fetch(epoch: LeaderEpoch(3), replica: BrokerID(2), fetchOffset: Offset(0), lastFetchedEpoch: .none, correlation: 5)
        let snapshotId = EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(40))
        let pointed = RaftMessage.FetchResult(
            epoch: LeaderEpoch(3), leader: BrokerID(1), outcome: .snapshot(snapshotId), highWatermark: Offset(44), fetchOffset: Offset(0), correlation: 5)
        for version: Int16 in 12...FetchResponse.validVersions.upperBound {
            let response = try Self.overTheWire(RaftWire.response(pointed, answering: fetch, version: version), version: version)
            #expect(try RaftWire.fetchResult(from: response, answering: fetch) == pointed, "v\(version)")
        }

        let piece = RaftMessage.FetchSnapshot(epoch: LeaderEpoch(3), replica: BrokerID(2), snapshot: snapshotId, position: 7, correlation: 9)
        for version in FetchSnapshotRequest.validVersions {
            let request = try Self.overTheWire(RaftWire.request(piece, clusterId: "c1", maxBytes: 100), version: version)
            #expect(try RaftWire.fetchSnapshot(from: request, correlation: 9) == piece)
            for outcome: RaftMessage.FetchSnapshotResult.Outcome in [
                .chunk(SnapshotChunk(bytes: ByteBuffer(string: "abc"), size: 10)), .notFound, .notLeader,
            ] {
                let result = RaftMessage.FetchSnapshotResult(
                    epoch: LeaderEpoch(3), leader: BrokerID(1), outcome: outcome, snapshot: snapshotId, position: 7, correlation: 9)
                let response = try Self.overTheWire(RaftWire.response(result, answering: piece), version: version)
                #expect(try RaftWire.fetchSnapshotResult(from: response, answering: piece) == result)
            }
        }
        var negative = RaftWire.request(piece, clusterId: "c1", maxBytes: 100)
        negative.topics[0].partitions[0].position = -1
        #expect(throws: RaftWire.Malformed.self) { try RaftWire.fetchSnapshot(from: negative, correlation: 1) }
    }

    @Test func aRefusedFetchSaysWhetherTheFetcherIsBehindOrAhead() {
        let result = RaftMessage.FetchResult(epoch: LeaderEpoch(5), leader: BrokerID(1), outcome: .notLeader, highWatermark: Offset(0), fetchOffset: Offset(0), correlation: 1)
        func code(fetcherEpoch: Int32) -> Int16 {
            let fetch = RaftMessage.Fetch(epoch: LeaderEpoch(fetcherEpoch), replica: BrokerID(2), fetchOffset: Offset(0), lastFetchedEpoch: .none, correlation: 1)
            return RaftWire.response(result, answering: fetch, version: 17).responses[0].partitions[0].errorCode
        }
        #expect(code(fetcherEpoch: 4) == ErrorCode.fencedLeaderEpoch.rawValue)
        #expect(code(fetcherEpoch: 6) == ErrorCode.unknownLeaderEpoch.rawValue)
        #expect(code(fetcherEpoch: 5) == ErrorCode.notLeaderOrFollower.rawValue)
    }

    @Test func corruptOrMisplacedBatchesAreRefused() throws {
        let entry = try Self.batch(epoch: 1, baseOffset: 5, values: ["x"])
        // A batch that does not start at the fetch offset.
        #expect(throws: RaftWire.Malformed.self) { try RaftWire.entries(entry.payload, from: Offset(4)) }
        // A flipped byte in the records fails the CRC.
        var corrupt = entry.payload
        let last = corrupt.writerIndex - 1
        corrupt.setInteger(corrupt.getInteger(at: last, as: UInt8.self)! ^ 0xFF, at: last)
        #expect(throws: RaftWire.Malformed.self) { try RaftWire.entries(corrupt, from: Offset(5)) }
        #expect(try RaftWire.entries(entry.payload, from: Offset(5)).count == 1)
    }

    @Test func requestsForOtherPartitionsAreNotQuorumMessages() throws {
        var vote = RaftWire.request(
            RaftMessage.Vote(epoch: LeaderEpoch(1), candidate: BrokerID(1), lastEpoch: .none, endOffset: Offset(0), preVote: false),
            clusterId: "c", voter: BrokerID(2)
        )
        vote.topics[0].topicName = "orders"
        #expect(throws: RaftWire.Malformed.self) { try RaftWire.vote(from: vote) }
        var fetch = FetchRequest(topics: [FetchRequest.FetchTopic(topic: "orders", partitions: [FetchRequest.FetchPartition(partition: 0)])])
        #expect(!RaftWire.isQuorumFetch(fetch))
        fetch.topics[0].topic = RaftWire.topicName
        #expect(throws: RaftWire.Malformed.self, "no replica id") { try RaftWire.fetch(from: fetch, correlation: 1) }
    }
}
