import BrookModel
import BrookProtocol

/// Collects the KIP-848 records of the log (last value per key wins) and rebuilds the groups.
struct ConsumerGroupLoader {
    private struct Stored {
        var epoch: Int32?
        var members: [String: ConsumerGroupMemberMetadataValue] = [:]
        var targetEpoch: Int32 = 0
        var targets: [String: ConsumerGroupTargetAssignmentMemberValue] = [:]
        var current: [String: ConsumerGroupCurrentMemberAssignmentValue] = [:]
    }

    private var groups: [String: Stored] = [:]

    mutating func apply(_ record: ConsumerGroupRecord) {
        switch record {
        case .metadata(let group, let value):
            if let value { groups[group, default: Stored()].epoch = value.epoch } else { groups[group] = nil }
        case .member(let group, let memberId, let value):
            groups[group, default: Stored()].members[memberId] = value
        case .targetMetadata(let group, let value):
            groups[group, default: Stored()].targetEpoch = value?.assignmentEpoch ?? 0
        case .targetMember(let group, let memberId, let value):
            groups[group, default: Stored()].targets[memberId] = value
        case .currentAssignment(let group, let memberId, let value):
            groups[group, default: Stored()].current[memberId] = value
        }
    }

    /// The groups whose metadata survived, each member's session starting now.
    func groups(catalog: TopicCatalog, configuration: GroupConfiguration, now: Int64) -> [String: ConsumerGroup] {
        var result: [String: ConsumerGroup] = [:]
        for (groupId, stored) in groups {
            guard let epoch = stored.epoch else { continue }
            var group = ConsumerGroup(groupId: groupId)
            group.groupEpoch = epoch
            group.assignmentEpoch = stored.targetEpoch
            for (memberId, metadata) in stored.members {
                var member = ConsumerMember(
                    memberId: memberId, instanceId: metadata.instanceId, rackId: metadata.rackId, clientId: metadata.clientId,
                    clientHost: metadata.clientHost, rebalanceTimeoutMs: metadata.rebalanceTimeoutMs
                )
                member.subscribedTopicNames = metadata.subscribedTopicNames
                member.subscribedTopicRegex = metadata.subscribedTopicRegex.flatMap { $0.isEmpty ? nil : $0 }
                member.serverAssignor = metadata.serverAssignor.flatMap { $0.isEmpty ? nil : $0 }
                if let current = stored.current[memberId] {
                    member.epoch = current.memberEpoch
                    member.previousEpoch = current.previousMemberEpoch
                    member.assigned = ConsumerGroup.partitions(current.assignedPartitions.map { ($0.topicId, $0.partitions) }, catalog)
                    member.pendingRevocation = ConsumerGroup.partitions(
                        current.partitionsPendingRevocation.map { ($0.topicId, $0.partitions) }, catalog)
                    // A state this version does not know: wait for the revocation if there is one.
                    member.state = ConsumerMemberState(rawValue: current.state)
                        ?? (member.pendingRevocation.isEmpty ? .unreleasedPartitions : .unrevokedPartitions)
                }
                member.sessionDeadline = now + Int64(configuration.consumerSessionTimeoutMs)
                if member.state == .unrevokedPartitions {
                    member.revocationDeadline = now + Int64(max(member.rebalanceTimeoutMs, 0))
                }
                group.members[memberId] = member
                if let instanceId = member.instanceId { group.staticMembers[instanceId] = memberId }
                if let target = stored.targets[memberId] {
                    group.target[memberId] = ConsumerGroup.partitions(target.topicPartitions.map { ($0.topicId, $0.partitions) }, catalog)
                }
            }
            group.targetTopics = ConsumerGroup.partitionCounts(of: group.subscriptions(catalog: catalog), catalog: catalog)
            group.assignor = group.members.values.compactMap { $0.serverAssignor.flatMap(ConsumerAssignor.init(rawValue:)) }.first ?? .uniform
            result[groupId] = group
        }
        return result
    }
}
