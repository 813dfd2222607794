import BrookProtocol
import NIOCore

extension ClassicGroup {
    /// The group as Kafka stores it in `__consumer_offsets` (GroupMetadataValue); with
    /// `assignments`, those (by member id, empty for a member missing) in place of the members'
    /// current ones, for the leader's assignment before it is applied.
    public func snapshot(assignments: [String: ByteBuffer]? = nil) -> GroupMetadataValue {
        GroupMetadataValue(
            protocolType: protocolType ?? "", generation: generationId, protocol: protocolName, leader: leaderId,
            currentStateTimestamp: stateTimestamp,
            members: orderedMembers.map { member in
                GroupMetadataValue.MemberMetadata(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost, rebalanceTimeout: member.rebalanceTimeoutMs,
                    sessionTimeout: member.sessionTimeoutMs, subscription: member.metadata(for: protocolName),
                    assignment: assignments.map { $0[member.memberId] ?? ByteBuffer() } ?? member.assignment
                )
            }
        )
    }

    /// Rebuilds a group from its stored metadata, as a coordinator does on load: a group with
    /// members is Stable in its stored generation and every member's session starts now.
    public init(groupId: String, restoring value: GroupMetadataValue, now: Int64) {
        self.init(groupId: groupId, now: value.currentStateTimestamp >= 0 ? value.currentStateTimestamp : now)
        generationId = value.generation
        protocolType = value.protocolType.isEmpty && value.members.isEmpty ? nil : value.protocolType
        protocolName = value.protocol
        for stored in value.members {
            var member = GroupMember(
                memberId: stored.memberId, groupInstanceId: stored.groupInstanceId, clientId: stored.clientId,
                clientHost: stored.clientHost, rebalanceTimeoutMs: stored.rebalanceTimeout,
                sessionTimeoutMs: stored.sessionTimeout,
                protocols: [GroupMember.SupportedProtocol(name: value.protocol ?? "", metadata: stored.subscription)]
            )
            member.assignment = stored.assignment
            member.heartbeatDeadline = now + Int64(stored.sessionTimeout)
            add(member)
        }
        leaderId = value.leader.flatMap { members[$0] == nil ? nil : $0 } ?? memberOrder.first
        state = members.isEmpty ? .empty : .stable
    }
}
