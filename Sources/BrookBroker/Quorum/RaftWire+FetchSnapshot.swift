import BrookModel
import BrookProtocol
import BrookRaft
import NIOCore

extension RaftWire {
    /// A replica's FetchSnapshot of `__cluster_metadata-0`: a piece of the leader's snapshot
    /// from a byte position.
    package static func request(_ fetch: RaftMessage.FetchSnapshot, clusterId: String, maxBytes: Int32) -> FetchSnapshotRequest {
        FetchSnapshotRequest(
            clusterId: clusterId, replicaId: fetch.replica.rawValue, maxBytes: maxBytes,
            topics: [FetchSnapshotRequest.TopicSnapshot(name: topicName, partitions: [FetchSnapshotRequest.PartitionSnapshot(
                partition: 0, currentLeaderEpoch: fetch.epoch.rawValue,
                snapshotId: FetchSnapshotRequest.SnapshotId(endOffset: fetch.snapshot.endOffset.rawValue, epoch: fetch.snapshot.epoch.rawValue),
                position: fetch.position
            )])]
        )
    }

    package static func fetchSnapshot(from request: FetchSnapshotRequest, correlation: UInt64) throws(Malformed) -> RaftMessage.FetchSnapshot {
        guard request.topics.count == 1, let topic = request.topics.first, topic.name == topicName,
            topic.partitions.count == 1, let partition = topic.partitions.first, partition.partition == 0
        else { throw Malformed(description: "a FetchSnapshot request must name \(topicName)-0 alone") }
        guard request.replicaId >= 0 else { throw Malformed(description: "a FetchSnapshot request must name the fetching replica") }
        guard partition.position >= 0, partition.snapshotId.endOffset >= 0, partition.snapshotId.epoch >= 0 else {
            throw Malformed(description: "a FetchSnapshot request must name a snapshot and a position that are not negative")
        }
        return RaftMessage.FetchSnapshot(
            epoch: LeaderEpoch(partition.currentLeaderEpoch), replica: BrokerID(request.replicaId),
            snapshot: EpochEndOffset(epoch: LeaderEpoch(partition.snapshotId.epoch), endOffset: Offset(partition.snapshotId.endOffset)),
            position: partition.position, correlation: correlation
        )
    }

    /// The leader's answer: a piece of the snapshot, SNAPSHOT_NOT_FOUND when it no longer holds
    /// it, or why it does not answer (as for Fetch).
    package static func response(_ result: RaftMessage.FetchSnapshotResult, answering fetch: RaftMessage.FetchSnapshot) -> FetchSnapshotResponse {
        var partition = FetchSnapshotResponse.PartitionSnapshot(
            index: 0,
            snapshotId: FetchSnapshotResponse.SnapshotId(endOffset: result.snapshot.endOffset.rawValue, epoch: result.snapshot.epoch.rawValue),
            currentLeader: FetchSnapshotResponse.LeaderIdAndEpoch(leaderId: result.leader?.rawValue ?? -1, leaderEpoch: result.epoch.rawValue),
            position: result.position
        )
        switch result.outcome {
        case .chunk(let chunk):
            partition.size = chunk.size
            partition.unalignedRecords = chunk.bytes
        case .notFound:
            partition.errorCode = ErrorCode.snapshotNotFound.rawValue
        case .notLeader:
            let code: ErrorCode = fetch.epoch < result.epoch ? .fencedLeaderEpoch
                : fetch.epoch > result.epoch ? .unknownLeaderEpoch : .notLeaderOrFollower
            partition.errorCode = code.rawValue
        }
        return FetchSnapshotResponse(topics: [FetchSnapshotResponse.TopicSnapshot(name: topicName, partitions: [partition])])
    }

    package static func fetchSnapshotResult(
        from response: FetchSnapshotResponse, answering fetch: RaftMessage.FetchSnapshot
    ) throws(Malformed) -> RaftMessage.FetchSnapshotResult {
        guard response.errorCode == 0 else {
            throw Malformed(description: "the leader answered \(ErrorCode(rawValue: response.errorCode).map(String.init(describing:)) ?? String(response.errorCode))")
        }
        let partition = try onlyPartition(response.topics.map { ($0.name, $0.partitions) }, errorCode: 0)
        var result = RaftMessage.FetchSnapshotResult(
            epoch: LeaderEpoch(partition.currentLeader.leaderEpoch), leader: leader(partition.currentLeader.leaderId),
            outcome: .notFound, snapshot: fetch.snapshot, position: fetch.position, correlation: fetch.correlation
        )
        switch ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError {
        case .none:
            guard partition.position == fetch.position, partition.size >= 0,
                partition.snapshotId.endOffset == fetch.snapshot.endOffset.rawValue, partition.snapshotId.epoch == fetch.snapshot.epoch.rawValue
            else { throw Malformed(description: "a FetchSnapshot answer for another snapshot or position") }
            result.outcome = .chunk(SnapshotChunk(bytes: partition.unalignedRecords, size: partition.size))
        case .snapshotNotFound, .positionOutOfRange:
            result.outcome = .notFound
        default:
            result.outcome = .notLeader
        }
        return result
    }
}
