import BrookProtocol
import NIOCore

extension ClassicGroup {
    /// SyncGroup. Followers are parked until the leader sends the assignment. The leader's sync
    /// asks the owner to store the assignment (``GroupAction/storeAssignment(_:)``) and leaves the
    /// group CompletingRebalance: as in Kafka, no member sees an assignment that is not in the
    /// log. The owner then calls ``assignmentStored(_:now:)`` or
    /// ``assignmentNotStored(error:configuration:now:)``.
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
            return (.wait(memberId: memberId), [.storeAssignment(assignments)])
        }
    }

    /// The leader's assignment is in the log: every member gets its part, the group is Stable
    /// and the members parked in SyncGroup are answered.
    public mutating func assignmentStored(_ assignments: [String: ByteBuffer], now: Int64) -> [GroupAction] {
        guard state == .completingRebalance else { return [] }
        for id in memberOrder {
            members[id]?.assignment = assignments[id] ?? ByteBuffer()
        }
        phaseDeadline = nil
        transition(to: .stable, now: now)
        var actions: [GroupAction] = []
        for id in memberOrder where members[id]?.awaitingSync == true {
            members[id]?.awaitingSync = false
            actions.append(.completeSync(memberId: id, assignmentResult(for: id)))
        }
        return actions
    }

    /// The leader's assignment could not be stored: every member parked in SyncGroup (the
    /// leader too) gets `error` and no assignment, and the group rebalances, as Kafka does
    /// (its `resetAndPropagateAssignmentWithError`, then a new join phase).
    public mutating func assignmentNotStored(error: ErrorCode, configuration: GroupConfiguration, now: Int64) -> [GroupAction] {
        guard state == .completingRebalance else { return [] }
        var actions: [GroupAction] = []
        for id in memberOrder {
            guard var member = members[id] else { continue }
            member.assignment = ByteBuffer()
            if member.awaitingSync {
                member.awaitingSync = false
                actions.append(.completeSync(memberId: id, SyncGroupResult(error: error)))
            }
            members[id] = member
        }
        actions += prepareRebalance(now: now, configuration: configuration)
        actions += checkJoinCompletion(now: now)
        return actions
    }

    private func assignmentResult(for memberId: String) -> SyncGroupResult {
        var result = SyncGroupResult()
        result.protocolType = protocolType
        result.protocolName = protocolName
        result.assignment = members[memberId]?.assignment ?? ByteBuffer()
        return result
    }
}
