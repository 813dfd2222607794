import BrookProtocol
import NIOCore

extension ClassicGroup {
    /// Heartbeat: keeps a member alive and tells it when to rejoin.
    public mutating func heartbeat(memberId: String, groupInstanceId: String?, generationId: Int32, now: Int64) -> ErrorCode {
        guard state != .dead else { return .coordinatorNotAvailable }
        guard state != .empty else { return .unknownMemberId }
        if let error = memberError(memberId: memberId, instanceId: groupInstanceId) { return error }
        guard generationId == self.generationId else { return .illegalGeneration }
        guard var member = members[memberId] else { return .unknownMemberId }
        member.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
        members[memberId] = member
        return state == .preparingRebalance ? .rebalanceInProgress : .none
    }

    /// A member leaving by request (LeaveGroup, one entry of a batch). Static members may be
    /// named by instance id alone.
    public mutating func leave(
        memberId: String, groupInstanceId: String?, configuration: GroupConfiguration, now: Int64
    ) -> (ErrorCode, [GroupAction]) {
        var id = memberId
        if let groupInstanceId {
            guard let current = staticMembers[groupInstanceId] else { return (.unknownMemberId, []) }
            if !memberId.isEmpty && memberId != current { return (.fencedInstanceId, []) }
            id = current
        } else if pendingMembers.removeValue(forKey: memberId) != nil {
            return (.none, checkJoinCompletion(now: now))
        }
        guard members[id] != nil else { return (.unknownMemberId, []) }
        return (.none, removeAndRebalance(memberId: id, configuration: configuration, now: now))
    }

    /// Drops members whose session expired and ends phases whose time is up.
    public mutating func expire(configuration: GroupConfiguration, now: Int64) -> [GroupAction] {
        var actions: [GroupAction] = []
        for (id, deadline) in pendingMembers where deadline <= now {
            pendingMembers[id] = nil
        }
        for member in orderedMembers where member.isExpired(now: now) {
            actions += removeAndRebalance(memberId: member.memberId, configuration: configuration, now: now)
        }
        if let deadline = phaseDeadline, deadline <= now {
            switch state {
            case .preparingRebalance:
                actions += completeJoinPhase(now: now)
            case .completingRebalance:
                // Members that never sent SyncGroup are dropped; the rest start over.
                for member in orderedMembers where !member.awaitingSync && member.memberId != leaderId {
                    _ = remove(memberId: member.memberId)
                }
                if let leader = leaderId, members[leader]?.awaitingSync != true { _ = remove(memberId: leader) }
                actions += prepareRebalance(now: now, configuration: configuration)
                actions += checkJoinCompletion(now: now)
            default:
                phaseDeadline = nil
            }
        } else if state == .preparingRebalance {
            actions += checkJoinCompletion(now: now)
        }
        return actions
    }

    /// Removes a member and moves the group on: a settled group rebalances, a rebalancing group
    /// may now complete its join phase.
    mutating func removeAndRebalance(memberId: String, configuration: GroupConfiguration, now: Int64) -> [GroupAction] {
        guard let member = remove(memberId: memberId) else { return [] }
        var actions: [GroupAction] = []
        if member.awaitingJoin { actions.append(.completeJoin(memberId: memberId, JoinGroupResult(error: .unknownMemberId, memberId: memberId))) }
        if member.awaitingSync { actions.append(.completeSync(memberId: memberId, SyncGroupResult(error: .unknownMemberId))) }
        switch state {
        case .stable, .completingRebalance:
            actions += prepareRebalance(now: now, configuration: configuration)
            actions += checkJoinCompletion(now: now)
        case .preparingRebalance:
            actions += checkJoinCompletion(now: now)
        case .empty, .dead:
            break
        }
        return actions
    }

    /// Whether offsets may be committed for this group by `memberId` at `generationId`
    /// (OffsetCommit, classic rules): nil when allowed, else the error.
    public func offsetCommitError(memberId: String, groupInstanceId: String?, generationId: Int32) -> ErrorCode? {
        if generationId < 0 && memberId.isEmpty {
            // Standalone commits (admin tools, simple consumers) only to a group without members.
            return members.isEmpty ? nil : .unknownMemberId
        }
        if state == .empty && members.isEmpty && generationId < 0 { return nil }
        if let error = memberError(memberId: memberId, instanceId: groupInstanceId) { return error }
        guard generationId == self.generationId else { return .illegalGeneration }
        if state == .completingRebalance { return .rebalanceInProgress }
        return nil
    }

    /// Whether offsets may be committed for this group inside a transaction (TxnOffsetCommit,
    /// Kafka's rules): the member id, instance id and generation are optional there and checked
    /// only when one is given; a commit from the previous generation or during a rebalance is
    /// not refused for the rebalance alone. Nil when allowed, else the error.
    public func txnOffsetCommitError(memberId: String, groupInstanceId: String?, generationId: Int32) -> ErrorCode? {
        if state == .dead { return .coordinatorNotAvailable }
        if generationId < 0 && state == .empty { return nil }
        guard generationId >= 0 || !memberId.isEmpty || groupInstanceId != nil else { return nil }
        if let error = memberError(memberId: memberId, instanceId: groupInstanceId) { return error }
        return generationId == self.generationId ? nil : .illegalGeneration
    }

    /// Whether a member of this group currently subscribes to `topic`, read from the consumer
    /// protocol's subscriptions (only meaningful for protocol type "consumer").
    public func isSubscribed(to topic: String) -> Bool {
        guard protocolType == "consumer" else { return false }
        for member in members.values {
            var metadata = member.metadata(for: protocolName)
            guard metadata.readableBytes >= 2, let version = metadata.readInteger(as: Int16.self) else { continue }
            guard let subscription = try? ConsumerProtocolSubscription(from: &metadata, version: min(version, ConsumerProtocolSubscription.validVersions.upperBound)) else {
                return true // unreadable: assume subscribed, as Kafka does
            }
            if subscription.topics.contains(topic) { return true }
        }
        return false
    }
}
