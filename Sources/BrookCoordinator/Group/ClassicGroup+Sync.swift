import BrookProtocol
import NIOCore

extension ClassicGroup {
    /// SyncGroup. Followers are parked until the leader sends the assignment; the leader's sync
    /// stores every member's assignment, makes the group Stable and answers them all.
    public mutating func sync(
        memberId: String, groupInstanceId: String?, generationId: Int32,
        protocolType: String?, protocolName: String?, assignments: [String: ByteBuffer], now: Int64
    ) -> (GroupDecision<SyncGroupResult>, [GroupAction]) {
        if let error = memberError(memberId: memberId, instanceId: groupInstanceId) {
            return (.respond(SyncGroupResult(error: error)), [])
        }
        guard generationId == self.generationId else { return (.respond(SyncGroupResult(error: .illegalGeneration)), []) }
        if let protocolType, protocolType != self.protocolType { return (.respond(SyncGroupResult(error: .inconsistentGroupProtocol)), []) }
        if let protocolName, protocolName != self.protocolName { return (.respond(SyncGroupResult(error: .inconsistentGroupProtocol)), []) }
        guard var member = members[memberId] else { return (.respond(SyncGroupResult(error: .unknownMemberId)), []) }
        member.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)

        switch state {
        case .empty, .dead:
            return (.respond(SyncGroupResult(error: .unknownMemberId)), [])
        case .preparingRebalance:
            members[memberId] = member
            return (.respond(SyncGroupResult(error: .rebalanceInProgress)), [])
        case .stable:
            members[memberId] = member
            return (.respond(assignmentResult(for: memberId)), [])
        case .completingRebalance:
            member.awaitingSync = true
            members[memberId] = member
            guard memberId == leaderId else { return (.wait(memberId: memberId), []) }
            for id in memberOrder {
                members[id]?.assignment = assignments[id] ?? ByteBuffer()
            }
            phaseDeadline = nil
            transition(to: .stable, now: now)
            var actions: [GroupAction] = [.persist]
            for id in memberOrder where members[id]?.awaitingSync == true {
                members[id]?.awaitingSync = false
                actions.append(.completeSync(memberId: id, assignmentResult(for: id)))
            }
            return (.wait(memberId: memberId), actions)
        }
    }

    private func assignmentResult(for memberId: String) -> SyncGroupResult {
        var result = SyncGroupResult()
        result.protocolType = protocolType
        result.protocolName = protocolName
        result.assignment = members[memberId]?.assignment ?? ByteBuffer()
        return result
    }
}
