import BrookModel
import BrookProtocol
import Logging
import Synchronization

/// A consumer group as ConsumerGroupDescribe shows it.
public struct ConsumerGroupDescription: Sendable {
    public struct Member: Sendable {
        public var member: ConsumerMember
        public var target: Set<TopicPartition>
    }

    public var groupId: String
    public var state: String
    public var groupEpoch: Int32
    public var assignmentEpoch: Int32
    public var assignor: String
    public var members: [Member]
}

extension GroupShard {
    /// ConsumerGroupHeartbeat (KIP-848). An empty classic group of the same id becomes a
    /// consumer group; a classic group with members refuses. The group changes only once its
    /// records are in the log; when the log refuses them the member gets the log's error as
    /// Kafka maps it and the group stays as it was.
    public func consumerHeartbeat(groupId: String, _ request: ConsumerHeartbeat, catalog: TopicCatalog) async -> ConsumerHeartbeatResult {
        await exclusively { state in
            guard !state.isShutDown else { return ConsumerHeartbeatResult(error: .notCoordinator) }
            var records: [CoordinatorRecord] = []
            let converting = state.groups[groupId]
            if let classic = converting {
                guard classic.members.isEmpty && classic.pendingMembers.isEmpty else {
                    return ConsumerHeartbeatResult(error: .groupIdNotFound, errorMessage: "Group \(groupId) is not a consumer group.")
                }
                records.append(.groupMetadata(group: groupId, nil))
            }
            let before = state.consumerGroups[groupId]
            guard before != nil || request.memberEpoch == 0 else {
                return ConsumerHeartbeatResult(error: .unknownMemberId, errorMessage: "Group \(groupId) has no member \(request.memberId)")
            }
            var group = before ?? ConsumerGroup(groupId: groupId)
            let now = clock()
            let result = group.heartbeat(request, catalog: catalog, configuration: configuration, now: now, newMemberId: MemberIdentifier.uuid)
            if result.error == .invalidRequest {
                // A client that sends a malformed heartbeat fails fatally; say what it sent.
                logger.info("""
                    refused a heartbeat of member \(request.memberId) of group \(groupId) in epoch \(request.memberEpoch) \
                    (rebalance timeout \(request.rebalanceTimeoutMs) ms, topics \(request.subscribedTopicNames.map { "\($0)" } ?? "none"), \
                    regex \(request.subscribedTopicRegex ?? "none"), client \(request.clientId)): \(result.errorMessage ?? "invalid request")
                    """)
            }
            records += group.records(since: before, catalog: catalog)
            do {
                try log.write(records, now: now)
            } catch {
                logger.error("could not store consumer group \(groupId): \(error)")
                return ConsumerHeartbeatResult(error: CoordinatorLogError.responseCode(for: error))
            }
            if converting != nil { state.groups[groupId] = nil }
            state.consumerGroups[groupId] = group
            return result
        }
    }

    /// ConsumerGroupDescribe for one group; nil when no consumer group has this id.
    public func describeConsumerGroup(_ groupId: String) async -> ConsumerGroupDescription? {
        await exclusively { state in
            guard let group = state.consumerGroups[groupId] else { return nil }
            return ConsumerGroupDescription(
                groupId: groupId, state: group.stateName, groupEpoch: group.groupEpoch,
                assignmentEpoch: group.assignmentEpoch, assignor: group.assignor.rawValue,
                members: group.members.values.sorted { $0.memberId < $1.memberId }.map {
                    ConsumerGroupDescription.Member(member: $0, target: group.target[$0.memberId] ?? [])
                }
            )
        }
    }

    /// Whether `groupId` is a classic group (ConsumerGroupDescribe answers GROUP_ID_NOT_FOUND).
    public func isClassicGroup(_ groupId: String) async -> Bool {
        await exclusively { $0.groups[groupId] != nil }
    }
}
