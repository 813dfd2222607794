import BrookCoordinator
import BrookModel
import BrookProtocol

/// ConsumerGroupHeartbeat (KIP-848): joining, leaving, subscribing and reconciling in one call;
/// the broker computes the assignment. v0 members are named by the broker, v1 members name
/// themselves and may subscribe by regular expression.
struct ConsumerGroupHeartbeatHandler: RequestHandler {
    typealias Request = ConsumerGroupHeartbeatRequest
    let versions: ClosedRange<Int16> = 0...1
    let groups: GroupCoordinatorHost
    let metadata: MetadataStore

    func handle(_ request: ConsumerGroupHeartbeatRequest, context: RequestContext) async throws -> ConsumerGroupHeartbeatResponse? {
        guard !request.groupId.isEmpty else { return Self.failure(.invalidRequest, "GroupId can't be empty.") }
        if context.apiVersion >= 1 && request.memberId.isEmpty {
            return Self.failure(.invalidRequest, "MemberId can't be empty.")
        }
        // With ACLs: READ on the group, DESCRIBE on each topic subscribed to by name.
        guard context.authorized(.read, .group, request.groupId) else {
            return Self.failure(.groupAuthorizationFailed, "Group authorization failed.")
        }
        let refusedTopics = (request.subscribedTopicNames ?? []).filter { !context.authorized(.describe, .topic, $0) }
        guard refusedTopics.isEmpty else {
            return Self.failure(.topicAuthorizationFailed, "Unauthorized topics: \(refusedTopics.sorted().joined(separator: ", "))")
        }
        let shard: GroupShard
        switch groups.shard(for: request.groupId) {
        case .success(let found): shard = found
        case .failure(let error): return Self.failure(error.code, nil)
        }
        let catalog = metadata.image.topicCatalog
        var owned: Set<TopicPartition>?
        if let partitions = request.topicPartitions {
            owned = Set(partitions.flatMap { topic in
                catalog.name(of: topic.topicId).map { name in topic.partitions.map { TopicPartition(topic: name, partition: $0) } } ?? []
            })
        }
        let result = await shard.consumerHeartbeat(groupId: request.groupId, ConsumerHeartbeat(
            memberId: request.memberId, memberEpoch: request.memberEpoch, instanceId: request.instanceId,
            rackId: request.rackId, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
            subscribedTopicNames: request.subscribedTopicNames, subscribedTopicRegex: request.subscribedTopicRegex,
            serverAssignor: request.serverAssignor, ownedPartitions: owned,
            clientId: context.clientId ?? "", clientHost: context.clientHost
        ), catalog: catalog)
        guard result.error == .none else { return Self.failure(result.error, result.errorMessage) }
        var response = ConsumerGroupHeartbeatResponse(throttleTimeMs: 0, errorCode: 0)
        response.memberId = result.memberId
        response.memberEpoch = result.memberEpoch
        response.heartbeatIntervalMs = groups.settings.group.consumerHeartbeatIntervalMs
        if let assignment = result.assignment {
            let byTopic = Dictionary(grouping: assignment, by: \.topic)
            response.assignment = ConsumerGroupHeartbeatResponse.Assignment(topicPartitions: byTopic.keys.sorted().compactMap { name in
                guard let topic = catalog.topics[name] else { return nil }
                return ConsumerGroupHeartbeatResponse.TopicPartitions(
                    topicId: topic.id, partitions: byTopic[name]!.map(\.partition).sorted()
                )
            })
        }
        return response
    }

    static func failure(_ code: ErrorCode, _ message: String?) -> ConsumerGroupHeartbeatResponse {
        var response = ConsumerGroupHeartbeatResponse(throttleTimeMs: 0, errorCode: code.rawValue)
        response.errorMessage = message
        return response
    }
}
