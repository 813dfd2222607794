import BrookModel
import BrookProtocol

extension ConsumerGroup {
    /// The records that take the stored group from `old` (nil: not stored yet) to this state,
    /// in Kafka's order: member metadata, group epoch, target assignment, current assignments;
    /// departed members' records are tombstoned.
    func records(since old: ConsumerGroup?, catalog: TopicCatalog) -> [CoordinatorRecord] {
        var records: [ConsumerGroupRecord] = []
        for member in members.values.sorted(by: { $0.memberId < $1.memberId }) {
            let previous = old?.members[member.memberId]
            if previous.map({ !$0.hasSameMetadata(as: member) }) ?? true {
                records.append(.member(group: groupId, memberId: member.memberId, member.metadataValue))
            }
        }
        if old?.groupEpoch != groupEpoch {
            records.append(.metadata(group: groupId, ConsumerGroupMetadataValue(epoch: groupEpoch)))
        }
        // A static member's restart takes its predecessor's target over without a new target epoch.
        for (memberId, partitions) in target.sorted(by: { $0.key < $1.key }) where old?.target[memberId] != partitions {
            records.append(.targetMember(group: groupId, memberId: memberId, ConsumerGroupTargetAssignmentMemberValue(
                topicPartitions: Self.byTopicId(partitions, catalog).map { .init(topicId: $0.0, partitions: $0.1) })))
        }
        if old?.assignmentEpoch != assignmentEpoch {
            records.append(.targetMetadata(group: groupId, ConsumerGroupTargetAssignmentMetadataValue(assignmentEpoch: assignmentEpoch)))
        }
        for member in members.values.sorted(by: { $0.memberId < $1.memberId }) {
            let previous = old?.members[member.memberId]
            if previous.map({ !$0.hasSameAssignment(as: member) }) ?? true {
                records.append(.currentAssignment(group: groupId, memberId: member.memberId, currentAssignmentValue(member, catalog: catalog)))
            }
        }
        for memberId in (old?.members.keys).map(Array.init) ?? [] where members[memberId] == nil {
            records += [
                .currentAssignment(group: groupId, memberId: memberId, nil),
                .targetMember(group: groupId, memberId: memberId, nil),
                .member(group: groupId, memberId: memberId, nil),
            ]
        }
        return records.map { .consumerGroup($0) }
    }

    /// The tombstones that remove this (empty) group from the log.
    func tombstones() -> [CoordinatorRecord] {
        [.consumerGroup(.targetMetadata(group: groupId, nil)), .consumerGroup(.metadata(group: groupId, nil))]
    }

    private func currentAssignmentValue(_ member: ConsumerMember, catalog: TopicCatalog) -> ConsumerGroupCurrentMemberAssignmentValue {
        ConsumerGroupCurrentMemberAssignmentValue(
            memberEpoch: member.epoch, previousMemberEpoch: member.previousEpoch, state: member.state.rawValue,
            assignedPartitions: Self.byTopicId(member.assigned, catalog).map { .init(topicId: $0.0, partitions: $0.1) },
            partitionsPendingRevocation: Self.byTopicId(member.pendingRevocation, catalog).map { .init(topicId: $0.0, partitions: $0.1) }
        )
    }

    /// Partitions grouped by topic id, in topic-name order; topics no longer in the catalog drop out.
    static func byTopicId(_ partitions: Set<TopicPartition>, _ catalog: TopicCatalog) -> [(Uuid, [Int32])] {
        Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.compactMap { name, entries in
            catalog.topics[name].map { ($0.id, entries.map(\.partition).sorted()) }
        }
    }

    /// Partitions named by topic id, resolved through the catalog.
    static func partitions(_ topics: [(Uuid, [Int32])], _ catalog: TopicCatalog) -> Set<TopicPartition> {
        Set(topics.flatMap { id, partitions in
            catalog.name(of: id).map { name in partitions.map { TopicPartition(topic: name, partition: $0) } } ?? []
        })
    }
}

extension ConsumerMember {
    var metadataValue: ConsumerGroupMemberMetadataValue {
        ConsumerGroupMemberMetadataValue(
            instanceId: instanceId, rackId: rackId, clientId: clientId, clientHost: clientHost,
            subscribedTopicNames: subscribedTopicNames, subscribedTopicRegex: subscribedTopicRegex,
            rebalanceTimeoutMs: rebalanceTimeoutMs, serverAssignor: serverAssignor
        )
    }

    func hasSameMetadata(as other: ConsumerMember) -> Bool {
        metadataValue == other.metadataValue
    }

    /// Whether the current-assignment record of `other` would be this member's.
    func hasSameAssignment(as other: ConsumerMember) -> Bool {
        epoch == other.epoch && previousEpoch == other.previousEpoch && state == other.state
            && assigned == other.assigned && pendingRevocation == other.pendingRevocation
    }
}
