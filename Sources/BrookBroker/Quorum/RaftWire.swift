import BrookModel
import BrookProtocol
import BrookRaft
import NIOCore

/// The quorum's messages in KRaft's wire format: Vote, BeginQuorumEpoch and EndQuorumEpoch
/// requests and responses, and Fetch for `__cluster_metadata-0` (see `RaftWire+Fetch`).
///
/// A response is read against the request it answers (the connection pairs them by correlation
/// id), which supplies what KRaft's responses leave out: whether a vote was a pre-vote, and
/// where a fetch started.
package enum RaftWire {
    package static let topicName = "__cluster_metadata"
    /// KRaft's fixed topic id for the metadata log (`Uuid.METADATA_TOPIC_ID`).
    package static let topicId = Uuid(mostSignificantBits: 0, leastSignificantBits: 1)
    /// The tag that carries KIP-996's PreVote flag in a VoteRequest partition. VoteRequest v2
    /// makes it a field; the definitions Brook generates from stop at v1, so it travels as a
    /// tagged field, which a voter that does not know it ignores (and then answers a real vote).
    package static let preVoteTag: UInt32 = 10_000

    /// A request or response that is not about `__cluster_metadata-0`, or cannot be read as one.
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
    }

    package static func leader(_ id: Int32) -> BrokerID? { id >= 0 ? BrokerID(id) : nil }

    // MARK: Vote

    package static func request(_ vote: RaftMessage.Vote, clusterId: String, voter: BrokerID) -> VoteRequest {
        var partition = VoteRequest.PartitionData(
            partitionIndex: 0, candidateEpoch: vote.epoch.rawValue, candidateId: vote.candidate.rawValue,
            lastOffsetEpoch: vote.lastEpoch.rawValue, lastOffset: vote.endOffset.rawValue
        )
        if vote.preVote {
            partition.unknownTaggedFields = [TaggedField(tag: preVoteTag, data: ByteBuffer(bytes: [1]))]
        }
        return VoteRequest(
            clusterId: clusterId, voterId: voter.rawValue,
            topics: [VoteRequest.TopicData(topicName: topicName, partitions: [partition])]
        )
    }

    package static func vote(from request: VoteRequest) throws(Malformed) -> RaftMessage.Vote {
        guard request.topics.count == 1, let topic = request.topics.first, topic.topicName == topicName,
            topic.partitions.count == 1, let partition = topic.partitions.first, partition.partitionIndex == 0
        else { throw Malformed(description: "a Vote request must name \(topicName)-0 alone") }
        let preVote = partition.unknownTaggedFields.contains { $0.tag == preVoteTag && $0.data.getInteger(at: $0.data.readerIndex, as: UInt8.self) == 1 }
        return RaftMessage.Vote(
            epoch: LeaderEpoch(partition.candidateEpoch), candidate: BrokerID(partition.candidateId),
            lastEpoch: LeaderEpoch(partition.lastOffsetEpoch), endOffset: Offset(partition.lastOffset), preVote: preVote
        )
    }

    package static func response(_ result: RaftMessage.VoteResult) -> VoteResponse {
        VoteResponse(topics: [VoteResponse.TopicData(topicName: topicName, partitions: [VoteResponse.PartitionData(
            partitionIndex: 0, leaderId: result.leader?.rawValue ?? -1, leaderEpoch: result.epoch.rawValue,
            voteGranted: result.granted
        )])])
    }

    package static func voteResult(from response: VoteResponse, answering vote: RaftMessage.Vote) throws(Malformed) -> RaftMessage.VoteResult {
        let partition = try onlyPartition(response.topics.map { ($0.topicName, $0.partitions) }, errorCode: response.errorCode)
        return RaftMessage.VoteResult(
            epoch: LeaderEpoch(partition.leaderEpoch), leader: leader(partition.leaderId),
            granted: partition.voteGranted && partition.errorCode == 0, preVote: vote.preVote
        )
    }

    // MARK: BeginQuorumEpoch

    package static func request(_ begin: RaftMessage.BeginEpoch, clusterId: String, voter: BrokerID) -> BeginQuorumEpochRequest {
        BeginQuorumEpochRequest(
            clusterId: clusterId, voterId: voter.rawValue,
            topics: [BeginQuorumEpochRequest.TopicData(topicName: topicName, partitions: [BeginQuorumEpochRequest.PartitionData(
                partitionIndex: 0, leaderId: begin.leader.rawValue, leaderEpoch: begin.epoch.rawValue
            )])]
        )
    }

    package static func beginEpoch(from request: BeginQuorumEpochRequest) throws(Malformed) -> RaftMessage.BeginEpoch {
        guard request.topics.count == 1, let topic = request.topics.first, topic.topicName == topicName,
            topic.partitions.count == 1, let partition = topic.partitions.first, partition.partitionIndex == 0,
            partition.leaderId >= 0
        else { throw Malformed(description: "a BeginQuorumEpoch request must name \(topicName)-0 alone and its leader") }
        return RaftMessage.BeginEpoch(epoch: LeaderEpoch(partition.leaderEpoch), leader: BrokerID(partition.leaderId))
    }

    package static func response(_ result: RaftMessage.BeginEpochResult) -> BeginQuorumEpochResponse {
        BeginQuorumEpochResponse(topics: [BeginQuorumEpochResponse.TopicData(topicName: topicName, partitions: [
            BeginQuorumEpochResponse.PartitionData(partitionIndex: 0, leaderId: result.leader?.rawValue ?? -1, leaderEpoch: result.epoch.rawValue)
        ])])
    }

    package static func beginEpochResult(from response: BeginQuorumEpochResponse) throws(Malformed) -> RaftMessage.BeginEpochResult {
        let partition = try onlyPartition(response.topics.map { ($0.topicName, $0.partitions) }, errorCode: response.errorCode)
        return RaftMessage.BeginEpochResult(epoch: LeaderEpoch(partition.leaderEpoch), leader: leader(partition.leaderId))
    }

    // MARK: EndQuorumEpoch

    package static func request(_ end: RaftMessage.EndEpoch, clusterId: String) -> EndQuorumEpochRequest {
        EndQuorumEpochRequest(
            clusterId: clusterId,
            topics: [EndQuorumEpochRequest.TopicData(topicName: topicName, partitions: [EndQuorumEpochRequest.PartitionData(
                partitionIndex: 0, leaderId: end.leader.rawValue, leaderEpoch: end.epoch.rawValue,
                preferredSuccessors: end.preferredSuccessors.map(\.rawValue),
                preferredCandidates: end.preferredSuccessors.map { EndQuorumEpochRequest.ReplicaInfo(candidateId: $0.rawValue) }
            )])]
        )
    }

    /// Reads the successors from v0's PreferredSuccessors or v1's PreferredCandidates, whichever
    /// the version carried.
    package static func endEpoch(from request: EndQuorumEpochRequest) throws(Malformed) -> RaftMessage.EndEpoch {
        guard request.topics.count == 1, let topic = request.topics.first, topic.topicName == topicName,
            topic.partitions.count == 1, let partition = topic.partitions.first, partition.partitionIndex == 0,
            partition.leaderId >= 0
        else { throw Malformed(description: "an EndQuorumEpoch request must name \(topicName)-0 alone and its leader") }
        let successors = partition.preferredCandidates.isEmpty
            ? partition.preferredSuccessors : partition.preferredCandidates.map(\.candidateId)
        return RaftMessage.EndEpoch(
            epoch: LeaderEpoch(partition.leaderEpoch), leader: BrokerID(partition.leaderId),
            preferredSuccessors: successors.map { BrokerID($0) }
        )
    }

    package static func response(endEpochOf epoch: LeaderEpoch, leader: BrokerID?) -> EndQuorumEpochResponse {
        EndQuorumEpochResponse(topics: [EndQuorumEpochResponse.TopicData(topicName: topicName, partitions: [
            EndQuorumEpochResponse.PartitionData(partitionIndex: 0, leaderId: leader?.rawValue ?? -1, leaderEpoch: epoch.rawValue)
        ])])
    }

    // MARK: Shared

    /// The single `__cluster_metadata-0` partition of a quorum response.
    package static func onlyPartition<Partition>(_ topics: [(String, [Partition])], errorCode: Int16) throws(Malformed) -> Partition {
        guard errorCode == 0 else {
            throw Malformed(description: "the voter answered \(ErrorCode(rawValue: errorCode).map(String.init(describing:)) ?? String(errorCode))")
        }
        guard topics.count == 1, topics[0].0 == topicName, topics[0].1.count == 1 else {
            throw Malformed(description: "a quorum response must name \(topicName)-0 alone")
        }
        return topics[0].1[0]
    }
}
