import BrookModel
import BrookProtocol
import NIOCore

/// The consumer-group administration an operator needs (kafka-consumer-groups): list,
/// describe with lag, reset offsets, delete. Speaks only the public protocol.
public struct GroupAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// A group as ListGroups reports it.
    public struct Listing: Sendable, Equatable {
        public var groupId: String
        public var state: String
        public var type: String
        public var protocolType: String
    }

    /// One member and the partitions it holds.
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var instanceId: String?
        public var clientId: String
        public var host: String
        public var partitions: [TopicPartition]
    }

    /// A group's state and members.
    public struct Description: Sendable, Equatable {
        public var groupId: String
        public var state: String
        public var protocolType: String
        public var assignor: String
        public var members: [Member]
    }

    /// Every group of every broker.
    public func list() async throws -> [Listing] {
        let metadata = try await cluster.metadata(topics: [])
        var listings: [Listing] = []
        for broker in metadata.brokers {
            let response = try await cluster.connection(to: broker.nodeId).send(ListGroupsRequest())
            try check(response.errorCode)
            listings += response.groups.map {
                Listing(groupId: $0.groupId, state: $0.groupState, type: $0.groupType.isEmpty ? "classic" : $0.groupType.lowercased(),
                        protocolType: $0.protocolType)
            }
        }
        return listings.sorted { $0.groupId < $1.groupId }
    }

    /// The group's state and members with their assigned partitions (classic groups' assignments
    /// are decoded from the consumer protocol; KIP-848 groups are asked with ConsumerGroupDescribe).
    public func describe(_ groupId: String) async throws -> Description {
        let coordinator = try await cluster.groupCoordinator(groupId)
        let response = try await coordinator.send(DescribeGroupsRequest(groups: [groupId]))
        guard let group = response.groups.first else { throw ClientError.notFound("group \(groupId)") }
        try check(group.errorCode)
        if (try? coordinator.negotiatedVersion(of: ConsumerGroupDescribeRequest.self)) != nil,
           let modern = try await coordinator.send(ConsumerGroupDescribeRequest(groupIds: [groupId])).groups.first,
           modern.errorCode == 0 {
            return Description(
                groupId: groupId, state: modern.groupState, protocolType: "consumer", assignor: modern.assignorName,
                members: modern.members.map { member in
                    Member(memberId: member.memberId, instanceId: member.instanceId, clientId: member.clientId, host: member.clientHost,
                           partitions: member.assignment.topicPartitions.flatMap { topic in
                               topic.partitions.map { TopicPartition(topic: topic.topicName, partition: $0) }
                           })
                }
            )
        }
        return Description(
            groupId: groupId, state: group.groupState, protocolType: group.protocolType, assignor: group.protocolData,
            members: group.members.map { member in
                Member(memberId: member.memberId, instanceId: member.groupInstanceId, clientId: member.clientId, host: member.clientHost,
                       partitions: group.protocolType == "consumer" ? Self.assignedPartitions(member.memberAssignment) : [])
            }
        )
    }

    /// The group's committed offsets, for every partition it committed.
    public func committedOffsets(_ groupId: String) async throws -> [TopicPartition: Int64] {
        let coordinator = try await cluster.groupCoordinator(groupId)
        let version = try coordinator.negotiatedVersion(of: OffsetFetchRequest.self)
        var request = OffsetFetchRequest()
        if version >= 8 {
            request.groups = [OffsetFetchRequest.OffsetFetchRequestGroup(groupId: groupId, topics: nil)]
        } else {
            request.groupId = groupId
            request.topics = nil
        }
        let response = try await coordinator.send(request, version: version)
        var offsets: [TopicPartition: Int64] = [:]
        if version >= 8 {
            guard let group = response.groups.first else { return [:] }
            try check(group.errorCode)
            for topic in group.topics {
                for partition in topic.partitions where partition.committedOffset >= 0 {
                    offsets[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
                }
            }
        } else {
            try check(response.errorCode)
            for topic in response.topics {
                for partition in topic.partitions where partition.committedOffset >= 0 {
                    offsets[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
                }
            }
        }
        return offsets
    }

    /// Commits `offsets` for a group without members (what reset-offsets --execute does).
    public func commitOffsets(_ groupId: String, _ offsets: [TopicPartition: Int64]) async throws {
        let coordinator = try await cluster.groupCoordinator(groupId)
        let byTopic = Dictionary(grouping: offsets, by: { $0.key.topic })
        let request = OffsetCommitRequest(
            groupId: groupId, generationIdOrMemberEpoch: -1, memberId: "",
            topics: byTopic.keys.sorted().map { topic in
                OffsetCommitRequest.OffsetCommitRequestTopic(name: topic, partitions: byTopic[topic]!.map {
                    OffsetCommitRequest.OffsetCommitRequestPartition(partitionIndex: $0.key.partition, committedOffset: $0.value)
                })
            }
        )
        let response = try await coordinator.send(request)
        for topic in response.topics {
            for partition in topic.partitions { try check(partition.errorCode, "\(topic.name)-\(partition.partitionIndex)") }
        }
    }

    /// Deletes an empty group and its offsets.
    public func delete(_ groupId: String) async throws {
        let coordinator = try await cluster.groupCoordinator(groupId)
        let response = try await coordinator.send(DeleteGroupsRequest(groupsNames: [groupId]))
        guard let result = response.results.first else { throw ClientError.notFound("group \(groupId)") }
        try check(result.errorCode)
    }

    /// The partitions of a ConsumerProtocolAssignment (empty when it does not decode).
    static func assignedPartitions(_ bytes: ByteBuffer) -> [TopicPartition] {
        var buffer = bytes
        guard buffer.readableBytes >= 2, let version = buffer.readInteger(as: Int16.self),
              let assignment = try? ConsumerProtocolAssignment(
                from: &buffer, version: min(max(version, 0), ConsumerProtocolAssignment.validVersions.upperBound)) else { return [] }
        return assignment.assignedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) } }
    }

    func check(_ code: Int16, _ context: String? = nil) throws {
        guard code != 0 else { return }
        throw ClientError.broker(ErrorCode(rawValue: code) ?? .unknownServerError, context)
    }
}
