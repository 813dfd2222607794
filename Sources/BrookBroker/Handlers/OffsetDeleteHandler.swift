import BrookCoordinator
import BrookModel
import BrookProtocol

/// OffsetDelete: removes a group's committed offsets for partitions it no longer consumes;
/// GROUP_SUBSCRIBED_TO_TOPIC for topics a live consumer member still subscribes to.
struct OffsetDeleteHandler: RequestHandler {
    typealias Request = OffsetDeleteRequest
    let versions: ClosedRange<Int16> = 0...0
    let groups: GroupCoordinatorHost

    func handle(_ request: OffsetDeleteRequest, context: RequestContext) async throws -> OffsetDeleteResponse? {
        guard !request.groupId.isEmpty else { return OffsetDeleteResponse(errorCode: ErrorCode.invalidGroupId.rawValue) }
        guard context.authorized(.delete, .group, request.groupId) else {
            return OffsetDeleteResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue)
        }
        let shard: GroupShard
        switch groups.shard(for: request.groupId) {
        case .success(let found): shard = found
        case .failure(let error): return OffsetDeleteResponse(errorCode: error.code.rawValue)
        }
        // A topic needs READ; those refused are answered TOPIC_AUTHORIZATION_FAILED and left alone.
        let refused = Set(request.topics.map(\.name).filter { !context.authorized(.read, .topic, $0) })
        let partitions = request.topics.filter { !refused.contains($0.name) }.flatMap { topic in
            topic.partitions.map { TopicPartition(topic: topic.name, partition: $0.partitionIndex) }
        }
        let (groupError, errors) = await shard.deleteOffsets(groupId: request.groupId, partitions: partitions)
        guard groupError == .none else { return OffsetDeleteResponse(errorCode: groupError.rawValue) }
        return OffsetDeleteResponse(errorCode: 0, throttleTimeMs: 0, topics: request.topics.map { topic in
            OffsetDeleteResponse.OffsetDeleteResponseTopic(name: topic.name, partitions: topic.partitions.map {
                let error = refused.contains(topic.name)
                    ? .topicAuthorizationFailed : errors[TopicPartition(topic: topic.name, partition: $0.partitionIndex)] ?? .none
                return OffsetDeleteResponse.OffsetDeleteResponsePartition(partitionIndex: $0.partitionIndex, errorCode: error.rawValue)
            })
        })
    }
}
