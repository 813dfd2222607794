import BrookModel
import BrookProtocol

extension ConsumerGroup {
    /// Handles one ConsumerGroupHeartbeat: joins, leaves, subscription changes, epoch checks,
    /// and the member's next step towards the target assignment.
    public mutating func heartbeat(
        _ request: ConsumerHeartbeat, catalog: TopicCatalog, configuration: GroupConfiguration, now: Int64,
        newMemberId: () -> String
    ) -> ConsumerHeartbeatResult {
        // Kafka compiles the regex (RE2J) before anything else and refuses one that is not valid.
        if let pattern = request.subscribedTopicRegex, !pattern.isEmpty {
            do throws(TopicRegexError) {
                _ = try TopicRegex(pattern)
            } catch {
                return ConsumerHeartbeatResult(
                    error: .invalidRegularExpression,
                    errorMessage: "SubscribedTopicRegex `\(pattern)` is not a valid regular expression: \(error).")
            }
        }
        if request.memberEpoch < 0 {
            return leave(request)
        }
        var member: ConsumerMember
        // A new member already moved the group epoch on.
        var epochBumped = false
        if request.memberEpoch == 0 {
            guard request.subscribedTopicNames != nil || request.subscribedTopicRegex != nil else {
                return ConsumerHeartbeatResult(error: .invalidRequest, errorMessage: "SubscribedTopicNames or SubscribedTopicRegex must be set when joining")
            }
            guard request.rebalanceTimeoutMs >= 0 else {
                return ConsumerHeartbeatResult(error: .invalidRequest, errorMessage: "RebalanceTimeoutMs must be set when joining")
            }
            if let assignor = request.serverAssignor, ConsumerAssignor(rawValue: assignor) == nil {
                return ConsumerHeartbeatResult(error: .unsupportedAssignor, errorMessage: "Unknown server assignor \(assignor)")
            }
            let memberId = request.memberId.isEmpty ? newMemberId() : request.memberId
            switch join(memberId, request, configuration: configuration) {
            case .refused(let result): return result
            case .joined(let joined, let bumped):
                member = joined
                epochBumped = bumped
            }
        } else {
            guard let existing = members[request.memberId] else {
                return ConsumerHeartbeatResult(error: .unknownMemberId, errorMessage: "Member \(request.memberId) is not in group \(groupId)")
            }
            if let instanceId = request.instanceId, staticMembers[instanceId] != request.memberId {
                return ConsumerHeartbeatResult(error: .fencedInstanceId)
            }
            if let fenced = Self.epochError(request, member: existing) { return fenced }
            member = existing
        }
        if update(&member, with: request) && !epochBumped { groupEpoch += 1 }
        member.sessionDeadline = now + Int64(configuration.consumerSessionTimeoutMs)
        members[member.memberId] = member
        refreshTarget(catalog: catalog)
        // A member that (re)joins owns nothing yet, whether or not it says so (Kafka insists on
        // an empty list).
        reconcile(member.memberId, owned: request.memberEpoch == 0 ? request.ownedPartitions ?? [] : request.ownedPartitions, now: now)

        member = members[member.memberId]!
        var result = ConsumerHeartbeatResult()
        result.memberId = member.memberId
        result.memberEpoch = member.epoch
        if request.subscribedTopicNames != nil || request.memberEpoch == 0 || member.lastSentAssignment != member.assigned {
            result.assignment = member.assigned
            members[member.memberId]?.lastSentAssignment = member.assigned
        }
        return result
    }

    /// Kafka's epoch check: a heartbeat ahead of the member's epoch is fenced; one behind it is
    /// accepted only in the member's previous epoch and reporting owned partitions that are all
    /// still assigned (the answer that moved the epoch on was lost), anything else is fenced.
    static func epochError(_ request: ConsumerHeartbeat, member: ConsumerMember) -> ConsumerHeartbeatResult? {
        if request.memberEpoch > member.epoch {
            return ConsumerHeartbeatResult(
                error: .fencedMemberEpoch,
                errorMessage: "The member epoch \(request.memberEpoch) is ahead of the current \(member.epoch); the member must abandon its partitions and rejoin.")
        }
        if request.memberEpoch < member.epoch {
            guard request.memberEpoch == member.previousEpoch, let owned = request.ownedPartitions, owned.isSubset(of: member.assigned) else {
                return ConsumerHeartbeatResult(
                    error: .fencedMemberEpoch,
                    errorMessage: "The member epoch \(request.memberEpoch) is behind the current \(member.epoch); the member must abandon its partitions and rejoin.")
            }
        }
        return nil
    }

    /// Applies the request's subscription fields; true when the subscription changed.
    private func update(_ member: inout ConsumerMember, with request: ConsumerHeartbeat) -> Bool {
        var changed = false
        if let names = request.subscribedTopicNames, names.sorted() != member.subscribedTopicNames.sorted() {
            member.subscribedTopicNames = names
            changed = true
        }
        if let regex = request.subscribedTopicRegex, regex != member.subscribedTopicRegex {
            member.subscribedTopicRegex = regex.isEmpty ? nil : regex
            changed = true
        }
        if let assignor = request.serverAssignor, assignor != member.serverAssignor {
            member.serverAssignor = assignor
            changed = true
        }
        if request.rebalanceTimeoutMs >= 0 { member.rebalanceTimeoutMs = request.rebalanceTimeoutMs }
        if let rack = request.rackId { member.rackId = rack }
        return changed
    }

    /// Recomputes the target assignment when the group epoch moved on or the subscribed topics
    /// changed (new topics matching a regex, added partitions).
    mutating func refreshTarget(catalog: TopicCatalog) {
        let subscriptions = self.subscriptions(catalog: catalog)
        let counts = Self.partitionCounts(of: subscriptions, catalog: catalog)
        if counts != targetTopics && assignmentEpoch == groupEpoch { groupEpoch += 1 }
        guard assignmentEpoch < groupEpoch else { return }
        let preferred = members.values.compactMap { $0.serverAssignor.flatMap(ConsumerAssignor.init(rawValue:)) }
        assignor = preferred.first ?? .uniform
        target = assignor.assign(
            subscriptions: subscriptions, partitionCounts: counts,
            current: members.mapValues { $0.assigned }
        )
        targetTopics = counts
        assignmentEpoch = groupEpoch
    }

    /// Each member's subscribed topics among those of `catalog` (names and regular expressions).
    func subscriptions(catalog: TopicCatalog) -> [String: Set<String>] {
        members.mapValues { $0.subscribedTopics(in: catalog) }
    }

    /// The partition count of every topic in `subscriptions`.
    static func partitionCounts(of subscriptions: [String: Set<String>], catalog: TopicCatalog) -> [String: Int32] {
        var counts: [String: Int32] = [:]
        for topics in subscriptions.values {
            for topic in topics { counts[topic] = catalog.topics[topic]?.partitionCount }
        }
        return counts
    }
}
