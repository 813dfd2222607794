import BrookModel
import BrookProtocol

extension ConsumerGroup {
    enum JoinOutcome {
        /// The member to carry on with, and whether joining already moved the group epoch on.
        case joined(ConsumerMember, epochBumped: Bool)
        case refused(ConsumerHeartbeatResult)
    }

    /// A heartbeat at epoch 0: a new member, a member starting over, or a static member
    /// (`group.instance.id`) taking over from its previous incarnation.
    ///
    /// KIP-848 releases an instance id only when the static member holding it leaves (for good
    /// with epoch -1, or for now with -2: then its restart takes its partitions over) or its
    /// session expires; until then another member with that instance id is refused with
    /// UNRELEASED_INSTANCE_ID (fatal for that client) and the member in place keeps its
    /// assignment. (The classic protocol does the opposite and fences the old member.)
    mutating func join(_ memberId: String, _ request: ConsumerHeartbeat, configuration: GroupConfiguration) -> JoinOutcome {
        var member = ConsumerMember(
            memberId: memberId, instanceId: request.instanceId, rackId: request.rackId, clientId: request.clientId,
            clientHost: request.clientHost, rebalanceTimeoutMs: request.rebalanceTimeoutMs
        )
        var epochBumped = false
        if let instanceId = request.instanceId, let previousId = staticMembers[instanceId], let previous = members[previousId] {
            guard previous.hasLeftTemporarily || previousId == memberId else {
                return .refused(ConsumerHeartbeatResult(
                    error: .unreleasedInstanceId,
                    errorMessage: "Static member \(memberId) with instance id \(instanceId) cannot join the group because the instance id is owned by member \(previousId)."))
            }
            // The restarted static member (or the same one, rejoining after it was fenced)
            // takes over the assignment and subscription from epoch 0; reconciling it against
            // the partitions it reports (none, as it starts afresh) needs no revocation.
            member.assigned = previous.assigned
            member.subscribedTopicNames = previous.subscribedTopicNames
            member.subscribedTopicRegex = previous.subscribedTopicRegex
            member.serverAssignor = previous.serverAssignor
            members[previousId] = nil
            target[memberId] = target.removeValue(forKey: previousId)
        } else if members[memberId] != nil {
            // A member that lost its epoch (fenced) starts over as a new member.
            remove(memberId)
            epochBumped = true
        } else {
            guard members.count < configuration.maxSize else { return .refused(ConsumerHeartbeatResult(error: .groupMaxSizeReached)) }
            groupEpoch += 1
            epochBumped = true
        }
        if let instanceId = request.instanceId { staticMembers[instanceId] = memberId }
        return .joined(member, epochBumped: epochBumped)
    }

    /// A heartbeat at epoch -1 leaves the group; a static member's -2 leaves for now, keeping
    /// its partitions (and so no rebalance) until it is back or its session expires. A static
    /// member's leave must come from the member that holds the instance id.
    mutating func leave(_ request: ConsumerHeartbeat) -> ConsumerHeartbeatResult {
        var result = ConsumerHeartbeatResult()
        result.memberId = request.memberId
        result.memberEpoch = request.memberEpoch
        if let instanceId = request.instanceId {
            guard let current = staticMembers[instanceId], members[current] != nil else {
                return ConsumerHeartbeatResult(error: .unknownMemberId, errorMessage: "Instance id \(instanceId) is unknown in group \(groupId)")
            }
            guard current == request.memberId else {
                return ConsumerHeartbeatResult(
                    error: .fencedInstanceId,
                    errorMessage: "Static member \(request.memberId) with instance id \(instanceId) was fenced by member \(current).")
            }
            if request.memberEpoch == ConsumerMember.temporaryLeaveEpoch {
                members[current]?.epoch = ConsumerMember.temporaryLeaveEpoch
                members[current]?.pendingRevocation = []
                members[current]?.revocationDeadline = nil
                return result
            }
        } else if members[request.memberId] == nil {
            return ConsumerHeartbeatResult(error: .unknownMemberId, errorMessage: "Member \(request.memberId) is not in group \(groupId)")
        }
        remove(request.memberId)
        return result
    }
}
