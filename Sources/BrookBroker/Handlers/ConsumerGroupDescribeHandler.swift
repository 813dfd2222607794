import BrookCoordinator
import BrookModel
import BrookProtocol

/// ConsumerGroupDescribe (KIP-848): epochs, assignor, and each member's current and target
/// assignment. A classic group or an unknown id answers GROUP_ID_NOT_FOUND.
struct ConsumerGroupDescribeHandler: RequestHandler {
    typealias Request = ConsumerGroupDescribeRequest
    let versions: ClosedRange<Int16> = 0...0
    let groups: GroupCoordinatorHost
    let metadata: MetadataStore

    func handle(_ request: ConsumerGroupDescribeRequest, context: RequestContext) async throws -> ConsumerGroupDescribeResponse? {
        let catalog = metadata.image.topicCatalog
        let askedOperations = request.includeAuthorizedOperations
        return ConsumerGroupDescribeResponse(throttleTimeMs: 0, groups: await request.groupIds.asyncMap { groupId in
            var described = ConsumerGroupDescribeResponse.DescribedGroup(groupId: groupId, authorizedOperations: askedOperations
                ? context.authorizedOperations(.group, groupId, among: AclOperation.groupOperations) : Int32.min)
            guard !groupId.isEmpty else {
                described.errorCode = ErrorCode.invalidGroupId.rawValue
                return described
            }
            guard context.authorized(.describe, .group, groupId) else {
                described.errorCode = ErrorCode.groupAuthorizationFailed.rawValue
                return described
            }
            let shard: GroupShard
            switch groups.shard(for: groupId) {
            case .success(let found): shard = found
            case .failure(let error):
                described.errorCode = error.code.rawValue
                return described
            }
            guard let group = await shard.describeConsumerGroup(groupId) else {
                described.errorCode = ErrorCode.groupIdNotFound.rawValue
                described.errorMessage = await shard.isClassicGroup(groupId)
                    ? "Group \(groupId) is not a consumer group." : "Group \(groupId) not found."
                return described
            }
            described.groupState = group.state
            described.groupEpoch = group.groupEpoch
            described.assignmentEpoch = group.assignmentEpoch
            described.assignorName = group.assignor
            described.members = group.members.map { entry in
                let member = entry.member
                return ConsumerGroupDescribeResponse.Member(
                    memberId: member.memberId, instanceId: member.instanceId, rackId: member.rackId,
                    memberEpoch: member.epoch, clientId: member.clientId, clientHost: member.clientHost,
                    subscribedTopicNames: member.subscribedTopicNames, subscribedTopicRegex: member.subscribedTopicRegex,
                    assignment: Self.assignment(member.assigned, catalog: catalog),
                    targetAssignment: Self.assignment(entry.target, catalog: catalog)
                )
            }
            return described
        })
    }

    static func assignment(_ partitions: Set<TopicPartition>, catalog: TopicCatalog) -> ConsumerGroupDescribeResponse.Assignment {
        let byTopic = Dictionary(grouping: partitions, by: \.topic)
        return ConsumerGroupDescribeResponse.Assignment(topicPartitions: byTopic.keys.sorted().map { name in
            ConsumerGroupDescribeResponse.TopicPartitions(
                topicId: catalog.topics[name]?.id ?? .zero, topicName: name, partitions: byTopic[name]!.map(\.partition).sorted()
            )
        })
    }
}
