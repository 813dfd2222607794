import BrookCoordinator
import BrookModel
import BrookProtocol

/// TxnOffsetCommit (v0-4): a transactional producer commits a consumer group's offsets as part
/// of its transaction (`sendOffsetsToTransaction`), after AddOffsetsToTxn told the transaction
/// coordinator it would (that is checked there, not here).
///
/// The offsets are written to the group's partition of `__consumer_offsets` as one
/// transactional batch of the producer (``GroupShard/commitTransactionalOffsets(groupId:transactionalId:producerId:producerEpoch:memberId:groupInstanceId:generationId:offsets:)``)
/// and stay invisible to OffsetFetch until the transaction's COMMIT marker reaches that
/// partition (WriteTxnMarkers); an ABORT drops them. v2+ carry the leader epoch; v3+ the member
/// id, generation and instance id, checked against the group when given.
///
/// Errors are per partition, as in Kafka: UNKNOWN_TOPIC_OR_PARTITION for a partition the
/// metadata does not have (the others are still committed), INVALID_GROUP_ID for an empty group
/// id, COORDINATOR_NOT_AVAILABLE when the coordinator cannot start, then the shard's answers
/// (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID, OFFSET_METADATA_TOO_LARGE,
/// INVALID_PRODUCER_EPOCH for a fenced producer, NOT_COORDINATOR...).
struct TxnOffsetCommitHandler: RequestHandler {
    typealias Request = TxnOffsetCommitRequest
    let versions: ClosedRange<Int16> = 0...4
    let groups: GroupCoordinatorHost
    let metadata: MetadataStore

    func handle(_ request: TxnOffsetCommitRequest, context: RequestContext) async throws -> TxnOffsetCommitResponse? {
        let version = context.apiVersion
        let now = GroupCoordinator.wallClockMilliseconds()
        let image = metadata.image
        var errors: [TopicPartition: ErrorCode] = [:]
        var offsets: [(TopicPartition, CommittedOffset)] = []
        // With ACLs: WRITE on the transactional id, READ on the group and on each topic.
        let denied: ErrorCode? = !context.authorized(.write, .transactionalId, request.transactionalId)
            ? .transactionalIdAuthorizationFailed
            : !request.groupId.isEmpty && !context.authorized(.read, .group, request.groupId) ? .groupAuthorizationFailed : nil
        for topic in request.topics {
            let known = image.topics[topic.name].map { Set($0.partitions.map(\.index)) } ?? []
            let refused = denied ?? (context.authorized(.read, .topic, topic.name) ? nil : .topicAuthorizationFailed)
            for partition in topic.partitions {
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                if let refused {
                    errors[key] = refused
                    continue
                }
                guard known.contains(partition.partitionIndex) else {
                    errors[key] = .unknownTopicOrPartition
                    continue
                }
                offsets.append((key, CommittedOffset(
                    offset: partition.committedOffset,
                    leaderEpoch: version >= 2 ? partition.committedLeaderEpoch : -1,
                    metadata: partition.committedMetadata ?? "", commitTimestamp: now
                )))
            }
        }
        if request.groupId.isEmpty {
            for (key, _) in offsets { errors[key] = .invalidGroupId }
        } else if !offsets.isEmpty {
            switch groups.shard(for: request.groupId) {
            case .success(let shard):
                let results = await shard.commitTransactionalOffsets(
                    groupId: request.groupId, transactionalId: request.transactionalId,
                    producerId: request.producerId, producerEpoch: request.producerEpoch,
                    // Below v3 these decode as their defaults: no member, no generation.
                    memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                    generationId: request.generationId, offsets: offsets
                )
                errors.merge(results) { _, new in new }
            case .failure(let error):
                for (key, _) in offsets { errors[key] = error.code }
            }
        }
        return TxnOffsetCommitResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic(name: topic.name, partitions: topic.partitions.map { partition in
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                return TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition(
                    partitionIndex: partition.partitionIndex, errorCode: (errors[key] ?? .unknownServerError).rawValue
                )
            })
        })
    }
}
