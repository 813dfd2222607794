import Logging
import Synchronization
import BrookProtocol
import NIOCore

/// A group as DescribeGroups shows it.
public struct GroupDescription: Sendable {
    public struct Member: Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        public var metadata: ByteBuffer
        public var assignment: ByteBuffer
    }

    public var groupId: String
    /// Kafka's state name; "Dead" for an unknown group.
    public var state: String
    public var protocolType: String
    public var protocolName: String
    public var members: [Member]
}

/// A group as ListGroups shows it.
public struct GroupListing: Sendable, Equatable {
    public var groupId: String
    /// Kafka's state name ("Stable", "Empty", ...; "Assigning"/"Reconciling" for consumer groups).
    public var state: String
    public var protocolType: String
    /// "classic" or "consumer" (KIP-848).
    public var groupType: String
}

extension GroupShard {
    /// DescribeGroups: members with metadata and assignment in a Stable group, members alone
    /// otherwise; an unknown group is Dead.
    public func describe(groupId: String) async -> GroupDescription {
        await exclusively { state in
            if let consumer = state.consumerGroups[groupId] {
                return GroupDescription(
                    groupId: groupId, state: consumer.stateName, protocolType: "consumer", protocolName: consumer.assignor.rawValue,
                    members: consumer.members.values.sorted { $0.memberId < $1.memberId }.map {
                        GroupDescription.Member(memberId: $0.memberId, groupInstanceId: $0.instanceId, clientId: $0.clientId,
                                                clientHost: $0.clientHost, metadata: ByteBuffer(), assignment: ByteBuffer())
                    }
                )
            }
            guard let group = state.groups[groupId] else {
                return GroupDescription(groupId: groupId, state: GroupState.dead.rawValue, protocolType: "", protocolName: "", members: [])
            }
            let stable = group.state == .stable
            return GroupDescription(
                groupId: groupId, state: group.state.rawValue, protocolType: group.protocolType ?? "",
                protocolName: stable ? group.protocolName ?? "" : "",
                members: group.orderedMembers.map {
                    GroupDescription.Member(
                        memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                        clientHost: $0.clientHost, metadata: stable ? $0.metadata(for: group.protocolName) : ByteBuffer(),
                        assignment: stable ? $0.assignment : ByteBuffer()
                    )
                }
            )
        }
    }

    /// ListGroups.
    public func list() async -> [GroupListing] {
        await exclusively { state in
            state.groups.values.map {
                GroupListing(groupId: $0.groupId, state: $0.state.rawValue, protocolType: $0.protocolType ?? "", groupType: "classic")
            } + state.consumerGroups.values.map {
                GroupListing(groupId: $0.groupId, state: $0.stateName, protocolType: "consumer", groupType: "consumer")
            }
        }
    }

    /// DeleteGroups for one group: only an empty group may go; its offsets go with it, pending
    /// transactional ones too (a tombstone for each partition, as Kafka writes), so that a later
    /// COMMIT marker of their transaction brings none of them back.
    public func deleteGroup(_ groupId: String) async -> ErrorCode {
        await exclusively { state in
            guard !state.isShutDown else { return .notCoordinator }
            if let consumer = state.consumerGroups[groupId] {
                guard consumer.members.isEmpty else { return .nonEmptyGroup }
            } else {
                guard let group = state.groups[groupId] else { return .groupIdNotFound }
                guard group.state == .empty || group.state == .dead, group.members.isEmpty else { return .nonEmptyGroup }
            }
            let partitions = Set(state.offsets.offsets(of: groupId).keys).union(state.offsets.pendingPartitions(of: groupId))
            var tombstones: [CoordinatorRecord] = partitions.map { .offsetCommit(group: groupId, partition: $0, nil) }
            if let consumer = state.consumerGroups[groupId] {
                tombstones += consumer.tombstones()
            } else {
                tombstones.append(.groupMetadata(group: groupId, nil))
            }
            do {
                try log.write(tombstones, now: clock())
            } catch {
                logger.error("could not delete group \(groupId): \(error)")
                return CoordinatorLogError.responseCode(for: error)
            }
            state.offsets.removeAll(group: groupId)
            state.groups[groupId] = nil
            state.consumerGroups[groupId] = nil
            return .none
        }
    }
}
