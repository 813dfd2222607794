import BrookModel
import BrookProtocol
import BrookStorage

/// OffsetForLeaderEpoch: the end offset of a leader epoch — the first offset of the next larger
/// epoch, or the log end offset for the latest — so that a consumer or follower can detect a
/// diverged log after a leader change (KIP-101, KIP-320).
struct OffsetForLeaderEpochHandler: RequestHandler {
    typealias Request = OffsetForLeaderEpochRequest
    let versions: ClosedRange<Int16> = 0...4
    let partitions: PartitionTable

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) async throws -> OffsetForLeaderEpochResponse? {
        // With ACLs: a follower (a replica id, v3+) needs CLUSTER_ACTION; a consumer DESCRIBE on the topic.
        let follower = context.apiVersion >= 3 && request.replicaId >= 0
        let topics = request.topics.map { topic in
            let denied: ErrorCode? = follower
                ? (context.authorizedOnCluster(.clusterAction) ? nil : .clusterAuthorizationFailed)
                : (context.authorized(.describe, .topic, topic.topic) ? nil : .topicAuthorizationFailed)
            return OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult(topic: topic.topic, partitions: topic.partitions.map { requested in
                var result = OffsetForLeaderEpochResponse.EpochEndOffset(
                    errorCode: 0, partition: requested.partition, leaderEpoch: -1, endOffset: -1
                )
                if let denied {
                    result.errorCode = denied.rawValue
                    return result
                }
                let key = TopicPartition(topic: topic.topic, partition: requested.partition)
                guard let partition = partitions.leader(key) else {
                    result.errorCode = partitions.notLeaderError(key).rawValue
                    return result
                }
                if requested.currentLeaderEpoch >= 0 && requested.currentLeaderEpoch != partition.leaderEpoch {
                    result.errorCode = (requested.currentLeaderEpoch > partition.leaderEpoch
                        ? ErrorCode.unknownLeaderEpoch : ErrorCode.fencedLeaderEpoch).rawValue
                    return result
                }
                if let found = partition.log.endOffset(forEpoch: LeaderEpoch(requested.leaderEpoch)) {
                    result.leaderEpoch = found.epoch.rawValue
                    result.endOffset = found.endOffset.rawValue
                }
                return result
            })
        }
        return OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: topics)
    }
}
