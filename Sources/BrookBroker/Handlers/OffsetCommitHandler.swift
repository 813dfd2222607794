import BrookCoordinator
import BrookModel
import BrookProtocol

/// OffsetCommit: stores a group's consumed positions. v0 commits without group membership,
/// v1 carries a commit time per partition, v2–v4 a retention time, v6+ the leader epoch, v7+
/// static instance ids. Partitions of unknown topics fail with UNKNOWN_TOPIC_OR_PARTITION.
/// As in Kafka, an explicit retention runs from the time the broker receives the commit (not
/// from a v1 client's commit time); every sum saturates, so a retention near `Int64.max` means
/// "never expires" rather than an overflow.
struct OffsetCommitHandler: RequestHandler {
    typealias Request = OffsetCommitRequest
    let versions: ClosedRange<Int16> = 0...9
    let groups: GroupCoordinatorHost
    let metadata: MetadataStore

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async throws -> OffsetCommitResponse? {
        let version = context.apiVersion
        let now = GroupCoordinator.wallClockMilliseconds()
        let image = metadata.image
        var errors: [TopicPartition: ErrorCode] = [:]
        var offsets: [(TopicPartition, CommittedOffset)] = []
        // With ACLs: READ on the group, and on each topic.
        let groupDenied = !request.groupId.isEmpty && !context.authorized(.read, .group, request.groupId)
        for topic in request.topics {
            let known = image.topics[topic.name].map { Set($0.partitions.map(\.index)) } ?? []
            let denied: ErrorCode? = groupDenied
                ? .groupAuthorizationFailed : context.authorized(.read, .topic, topic.name) ? nil : .topicAuthorizationFailed
            for partition in topic.partitions {
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                if let denied {
                    errors[key] = denied
                    continue
                }
                guard known.contains(partition.partitionIndex) else {
                    errors[key] = .unknownTopicOrPartition
                    continue
                }
                let commitTimestamp = version == 1 && partition.commitTimestamp >= 0 ? partition.commitTimestamp : now
                let retention = (2...4).contains(version) && request.retentionTimeMs >= 0 ? request.retentionTimeMs : nil
                offsets.append((key, CommittedOffset(
                    offset: partition.committedOffset,
                    leaderEpoch: version >= 6 ? partition.committedLeaderEpoch : -1,
                    metadata: partition.committedMetadata ?? "", commitTimestamp: commitTimestamp,
                    expireTimestamp: retention.map { now.saturatingAdd($0) }
                )))
            }
        }
        if request.groupId.isEmpty {
            for (key, _) in offsets { errors[key] = .invalidGroupId }
        } else if !offsets.isEmpty {
            switch groups.shard(for: request.groupId) {
            case .success(let shard):
                let results = await shard.commitOffsets(
                    groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                    generationId: version >= 1 ? request.generationIdOrMemberEpoch : -1, offsets: offsets, apiVersion: version
                )
                errors.merge(results) { _, new in new }
            case .failure(let error):
                for (key, _) in offsets { errors[key] = error.code }
            }
        }
        return OffsetCommitResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            OffsetCommitResponse.OffsetCommitResponseTopic(name: topic.name, partitions: topic.partitions.map { partition in
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                return OffsetCommitResponse.OffsetCommitResponsePartition(
                    partitionIndex: partition.partitionIndex, errorCode: (errors[key] ?? .unknownServerError).rawValue
                )
            })
        })
    }
}
