import BrookModel
import BrookProtocol

/// A ConsumerGroupHeartbeat, as the state machine needs it (topic ids already resolved).
public struct ConsumerHeartbeat: Sendable {
    public var memberId: String
    public var memberEpoch: Int32
    public var instanceId: String?
    public var rackId: String?
    public var rebalanceTimeoutMs: Int32
    public var subscribedTopicNames: [String]?
    public var subscribedTopicRegex: String?
    public var serverAssignor: String?
    /// The partitions the member owns, nil when the request leaves the field out.
    public var ownedPartitions: Set<TopicPartition>?
    public var clientId: String
    public var clientHost: String

    public init(
        memberId: String, memberEpoch: Int32, instanceId: String?, rackId: String?, rebalanceTimeoutMs: Int32,
        subscribedTopicNames: [String]?, subscribedTopicRegex: String?, serverAssignor: String?,
        ownedPartitions: Set<TopicPartition>?, clientId: String, clientHost: String
    ) {
        self.memberId = memberId
        self.memberEpoch = memberEpoch
        self.instanceId = instanceId
        self.rackId = rackId
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.subscribedTopicNames = subscribedTopicNames
        self.subscribedTopicRegex = subscribedTopicRegex
        self.serverAssignor = serverAssignor
        self.ownedPartitions = ownedPartitions
        self.clientId = clientId
        self.clientHost = clientHost
    }
}

/// The answer to one ConsumerGroupHeartbeat.
public struct ConsumerHeartbeatResult: Sendable, Equatable {
    public var error: ErrorCode = .none
    public var errorMessage: String?
    public var memberId: String = ""
    public var memberEpoch: Int32 = 0
    /// The member's full assignment, nil when it has not changed since the last answer.
    public var assignment: Set<TopicPartition>?

    public init(error: ErrorCode = .none, errorMessage: String? = nil) {
        self.error = error
        self.errorMessage = errorMessage
    }
}

/// A KIP-848 consumer group: the broker computes the assignment. A value-type state machine.
///
/// Every membership or subscription change bumps the group epoch; the next heartbeat computes
/// a target assignment for that epoch with the group's assignor. Each member then reconciles
/// (`reconcile(_:owned:now:)`): it first gives up partitions it must revoke (keeping its
/// epoch), and once it confirms, it moves to the target epoch and receives new partitions as
/// soon as their previous owners have released them.
public struct ConsumerGroup: Sendable {
    public let groupId: String
    public internal(set) var groupEpoch: Int32 = 0
    /// The epoch the target assignment was computed for.
    public internal(set) var assignmentEpoch: Int32 = 0
    public internal(set) var target: [String: Set<TopicPartition>] = [:]
    public internal(set) var members: [String: ConsumerMember] = [:]
    var staticMembers: [String: String] = [:]
    /// The subscribed topics and partition counts the target was computed from.
    var targetTopics: [String: Int32] = [:]
    public internal(set) var assignor: ConsumerAssignor = .uniform

    public init(groupId: String) {
        self.groupId = groupId
    }

    /// Kafka's names for consumer group states.
    public var stateName: String {
        if members.isEmpty { return "Empty" }
        if assignmentEpoch < groupEpoch { return "Assigning" }
        let settled = members.values.allSatisfy { $0.state == .stable && $0.epoch == assignmentEpoch }
        return settled ? "Stable" : "Reconciling"
    }

    /// The earliest session or revocation deadline, for the owner's timer.
    public var nextDeadline: Int64? {
        members.values.flatMap { [$0.sessionDeadline] + ($0.revocationDeadline.map { [$0] } ?? []) }.min()
    }

    /// Removes members whose session or revocation time ran out.
    public mutating func expire(now: Int64) {
        for member in members.values where member.sessionDeadline <= now || (member.revocationDeadline ?? .max) <= now {
            remove(member.memberId)
        }
    }

    /// Whether a member subscribes to `topic` (OffsetDelete).
    public func isSubscribed(to topic: String) -> Bool {
        members.values.contains { $0.subscribes(to: topic) }
    }

    /// OffsetCommit rules for consumer groups: the member must exist and commit in its epoch;
    /// admin tools (no member id, epoch -1) may commit only while the group has no members.
    public func offsetCommitError(memberId: String, memberEpoch: Int32, version: Int16) -> ErrorCode? {
        if memberId.isEmpty && memberEpoch < 0 { return members.isEmpty ? nil : .unknownMemberId }
        guard let member = members[memberId] else { return .unknownMemberId }
        guard memberEpoch == member.epoch else { return version >= 9 ? .staleMemberEpoch : .illegalGeneration }
        return nil
    }

    /// TxnOffsetCommit rules for consumer groups (Kafka's): no member id, instance id nor
    /// epoch means no check; a named member must exist and commit in its epoch, a stale epoch
    /// being ILLEGAL_GENERATION (the only code TxnOffsetCommit clients know).
    public func txnOffsetCommitError(memberId: String, groupInstanceId: String?, memberEpoch: Int32) -> ErrorCode? {
        if memberEpoch < 0 && members.isEmpty { return nil }
        if memberEpoch < 0 && memberId.isEmpty && groupInstanceId == nil { return nil }
        guard let member = members[memberId] else { return .unknownMemberId }
        return memberEpoch == member.epoch ? nil : .illegalGeneration
    }

    mutating func remove(_ memberId: String) {
        guard let member = members.removeValue(forKey: memberId) else { return }
        if let instanceId = member.instanceId, staticMembers[instanceId] == memberId { staticMembers[instanceId] = nil }
        target[memberId] = nil
        groupEpoch += 1
    }
}
