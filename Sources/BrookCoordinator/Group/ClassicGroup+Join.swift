import BrookProtocol
import NIOCore

extension ClassicGroup {
    /// JoinGroup. A new member (or one that changed its protocols) starts a rebalance and is
    /// parked until the join phase ends; a known member rejoining a settled group with the same
    /// protocols gets the current generation at once.
    public mutating func join(
        _ request: JoinGroupParameters, configuration: GroupConfiguration, now: Int64,
        newMemberId: () -> String
    ) -> (GroupDecision<JoinGroupResult>, [GroupAction]) {
        if let error = joinError(request, configuration: configuration) {
            return (.respond(JoinGroupResult(error: error, memberId: request.memberId)), [])
        }
        if request.memberId.isEmpty {
            return joinUnknownMember(request, configuration: configuration, now: now, newMemberId: newMemberId)
        }
        return joinKnownMember(request, configuration: configuration, now: now)
    }

    private func joinError(_ request: JoinGroupParameters, configuration: GroupConfiguration) -> ErrorCode? {
        if request.sessionTimeoutMs < configuration.minSessionTimeoutMs || request.sessionTimeoutMs > configuration.maxSessionTimeoutMs {
            return .invalidSessionTimeout
        }
        if request.protocolType.isEmpty || request.protocols.isEmpty { return .inconsistentGroupProtocol }
        if state == .dead { return .coordinatorNotAvailable }
        if state != .empty && !members.isEmpty {
            guard request.protocolType == protocolType else { return .inconsistentGroupProtocol }
            // A member rejoining is checked against the others only.
            var others = self
            _ = others.remove(memberId: request.memberId)
            let common = others.members.isEmpty ? nil : others.commonProtocols
            if let common, !request.protocols.contains(where: { common.contains($0.name) }) {
                return .inconsistentGroupProtocol
            }
        }
        return nil
    }

    private mutating func joinUnknownMember(
        _ request: JoinGroupParameters, configuration: GroupConfiguration, now: Int64, newMemberId: () -> String
    ) -> (GroupDecision<JoinGroupResult>, [GroupAction]) {
        let memberId = newMemberId()
        if let instanceId = request.groupInstanceId, let previous = staticMembers[instanceId] {
            return replaceStaticMember(previous, with: memberId, request, configuration: configuration, now: now)
        }
        guard members.count + pendingMembers.count < configuration.maxSize else {
            return (.respond(JoinGroupResult(error: .groupMaxSizeReached)), [])
        }
        if request.requiresKnownMemberId && request.groupInstanceId == nil {
            pendingMembers[memberId] = now + Int64(request.sessionTimeoutMs)
            return (.respond(JoinGroupResult(error: .memberIdRequired, memberId: memberId)), [])
        }
        return addMemberAndRebalance(memberId, request, configuration: configuration, now: now)
    }

    private mutating func joinKnownMember(
        _ request: JoinGroupParameters, configuration: GroupConfiguration, now: Int64
    ) -> (GroupDecision<JoinGroupResult>, [GroupAction]) {
        if pendingMembers.removeValue(forKey: request.memberId) != nil {
            return addMemberAndRebalance(request.memberId, request, configuration: configuration, now: now)
        }
        if let error = memberError(memberId: request.memberId, instanceId: request.groupInstanceId) {
            return (.respond(JoinGroupResult(error: error, memberId: request.memberId)), [])
        }
        guard var member = members[request.memberId] else {
            return (.respond(JoinGroupResult(error: .unknownMemberId, memberId: request.memberId)), [])
        }
        switch state {
        case .preparingRebalance:
            update(&member, with: request, now: now)
            member.awaitingJoin = true
            members[member.memberId] = member
            return (.wait(memberId: member.memberId), checkJoinCompletion(now: now))
        case .completingRebalance, .stable:
            let unchanged = member.hasSameProtocols(as: request.protocols)
            if unchanged && (state == .completingRebalance || leaderId != member.memberId) {
                // A member that missed its JoinGroup answer: hand it the current generation.
                member.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
                members[member.memberId] = member
                return (.respond(currentGenerationResult(for: member.memberId)), [])
            }
            update(&member, with: request, now: now)
            member.awaitingJoin = true
            members[member.memberId] = member
            var actions = prepareRebalance(now: now, configuration: configuration)
            actions += checkJoinCompletion(now: now)
            return (.wait(memberId: member.memberId), actions)
        case .empty, .dead:
            return (.respond(JoinGroupResult(error: .unknownMemberId, memberId: request.memberId)), [])
        }
    }

    private mutating func addMemberAndRebalance(
        _ memberId: String, _ request: JoinGroupParameters, configuration: GroupConfiguration, now: Int64
    ) -> (GroupDecision<JoinGroupResult>, [GroupAction]) {
        var member = GroupMember(
            memberId: memberId, groupInstanceId: request.groupInstanceId, clientId: request.clientId,
            clientHost: request.clientHost, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
            sessionTimeoutMs: request.sessionTimeoutMs, protocols: request.protocols
        )
        member.awaitingJoin = true
        member.heartbeatDeadline = now + Int64(request.sessionTimeoutMs)
        if members.isEmpty { protocolType = request.protocolType }
        add(member)
        var actions: [GroupAction] = []
        if state == .preparingRebalance, let limit = initialDelayLimit {
            // Another member arrived while a new group waits: wait a little longer.
            phaseDeadline = min(limit, now + configuration.initialRebalanceDelayMs)
        } else if state != .preparingRebalance {
            actions += prepareRebalance(now: now, configuration: configuration)
        }
        actions += checkJoinCompletion(now: now)
        return (.wait(memberId: memberId), actions)
    }

    /// A static member restarted with a new member id (KIP-345): the old id is fenced and the
    /// new one takes its place and assignment. A settled group does not rebalance when the
    /// member asks for the same protocols.
    private mutating func replaceStaticMember(
        _ previousId: String, with memberId: String, _ request: JoinGroupParameters,
        configuration: GroupConfiguration, now: Int64
    ) -> (GroupDecision<JoinGroupResult>, [GroupAction]) {
        let wasLeader = leaderId == previousId
        guard var member = remove(memberId: previousId) else {
            return (.respond(JoinGroupResult(error: .unknownMemberId)), [])
        }
        var actions: [GroupAction] = []
        if member.awaitingJoin { actions.append(.completeJoin(memberId: previousId, JoinGroupResult(error: .fencedInstanceId, memberId: previousId))) }
        if member.awaitingSync { actions.append(.completeSync(memberId: previousId, SyncGroupResult(error: .fencedInstanceId))) }
        member.memberId = memberId
        member.clientId = request.clientId
        member.clientHost = request.clientHost
        member.protocols = request.protocols
        member.awaitingJoin = false
        member.awaitingSync = false
        members[memberId] = member
        memberOrder.append(memberId)
        staticMembers[request.groupInstanceId!] = memberId
        if wasLeader { leaderId = memberId }
        // As in Kafka, what matters is whether the next generation would choose another protocol,
        // not whether the metadata bytes changed (a consumer's subscription carries the partitions
        // it owned, which a restarted instance no longer lists).
        let unchanged = selectProtocol() == protocolName

        switch state {
        case .stable where unchanged:
            member.sessionTimeoutMs = request.sessionTimeoutMs
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
            member.heartbeatDeadline = now + Int64(request.sessionTimeoutMs)
            members[memberId] = member
            var result = currentGenerationResult(for: memberId)
            result.skipAssignment = leaderId == memberId
            return (.respond(result), actions + [.persist])
        case .preparingRebalance:
            update(&member, with: request, now: now)
            member.awaitingJoin = true
            members[memberId] = member
            return (.wait(memberId: memberId), actions + checkJoinCompletion(now: now))
        default:
            update(&member, with: request, now: now)
            member.awaitingJoin = true
            members[memberId] = member
            actions += prepareRebalance(now: now, configuration: configuration)
            actions += checkJoinCompletion(now: now)
            return (.wait(memberId: memberId), actions)
        }
    }

    private func update(_ member: inout GroupMember, with request: JoinGroupParameters, now: Int64) {
        member.protocols = request.protocols
        member.sessionTimeoutMs = request.sessionTimeoutMs
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
        member.clientId = request.clientId
        member.clientHost = request.clientHost
        member.heartbeatDeadline = now + Int64(request.sessionTimeoutMs)
    }

    /// The JoinGroup answer describing the current generation, for `memberId`.
    func currentGenerationResult(for memberId: String) -> JoinGroupResult {
        var result = JoinGroupResult(memberId: memberId)
        result.generationId = generationId
        result.protocolType = protocolType
        result.protocolName = protocolName
        result.leaderId = leaderId ?? ""
        if leaderId == memberId {
            result.members = orderedMembers.map {
                JoinGroupResult.Member(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: protocolName))
            }
        }
        return result
    }

    // MARK: Rebalance phases

    /// Starts (or restarts) the join phase. Members parked in SyncGroup are told to rejoin.
    mutating func prepareRebalance(now: Int64, configuration: GroupConfiguration) -> [GroupAction] {
        var actions: [GroupAction] = []
        if state == .completingRebalance {
            for id in memberOrder {
                guard var member = members[id] else { continue }
                member.assignment = ByteBuffer()
                if member.awaitingSync {
                    member.awaitingSync = false
                    actions.append(.completeSync(memberId: id, SyncGroupResult(error: .rebalanceInProgress)))
                }
                members[id] = member
            }
        }
        let rebalanceTimeout = Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
        if state == .empty && configuration.initialRebalanceDelayMs > 0 {
            phaseDeadline = now + configuration.initialRebalanceDelayMs
            initialDelayLimit = now + max(rebalanceTimeout, configuration.initialRebalanceDelayMs)
        } else {
            phaseDeadline = now + rebalanceTimeout
            initialDelayLimit = nil
        }
        transition(to: .preparingRebalance, now: now)
        return actions
    }

    /// Ends the join phase early when every member has rejoined (and no new group is still
    /// waiting out its initial delay).
    mutating func checkJoinCompletion(now: Int64) -> [GroupAction] {
        guard state == .preparingRebalance, initialDelayLimit == nil else { return [] }
        guard members.values.allSatisfy(\.awaitingJoin), pendingMembers.isEmpty else { return [] }
        return completeJoinPhase(now: now)
    }

    /// Ends the join phase: members that did not rejoin are dropped, the generation advances, a
    /// protocol and a leader are chosen and every parked JoinGroup is answered.
    mutating func completeJoinPhase(now: Int64) -> [GroupAction] {
        for member in orderedMembers where !member.awaitingJoin {
            _ = remove(memberId: member.memberId)
        }
        initialDelayLimit = nil
        generationId += 1
        guard !members.isEmpty else {
            protocolName = nil
            leaderId = nil
            phaseDeadline = nil
            transition(to: .empty, now: now)
            return [.persist]
        }
        protocolName = selectProtocol()
        if leaderId == nil || members[leaderId!] == nil { leaderId = memberOrder.first }
        let rebalanceTimeout = Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
        phaseDeadline = now + rebalanceTimeout
        transition(to: .completingRebalance, now: now)
        var actions: [GroupAction] = []
        for id in memberOrder {
            guard var member = members[id] else { continue }
            member.awaitingJoin = false
            member.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
            members[id] = member
            actions.append(.completeJoin(memberId: id, currentGenerationResult(for: id)))
        }
        return actions
    }
}
