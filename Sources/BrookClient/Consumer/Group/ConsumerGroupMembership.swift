import BrookModel
import BrookProtocol

/// A member's side of KIP-848's consumer group protocol, as a value-type state machine: one
/// ConsumerGroupHeartbeat carries joining, the subscription, the partitions owned and leaving;
/// the broker answers with the member epoch and, when it changed, the member's target
/// assignment.
///
/// Reconciling a target revokes first (partitions the target leaves out, committed with
/// auto-commit), then takes the new partitions, and reports the owned partitions in a
/// heartbeat sent at once, which lets the broker hand the revoked partitions to their new
/// members. FENCED_MEMBER_EPOCH and UNKNOWN_MEMBER_ID mean the partitions are lost: the member
/// joins again with epoch 0. Leaving sends epoch -1 (-2 for a static member, which the broker
/// keeps in the group for its session timeout). Times are milliseconds of an injected clock.
struct ConsumerGroupMembership: Sendable {
    struct Settings: Sendable {
        var instanceId: String?
        var maxPollIntervalMs: Int32
        var serverAssignor: String?
        var retryBackoffMs: Int64
    }

    enum Step: Sendable, Equatable {
        /// Revoke, then assign, then report ``reconciled(now:)``.
        case reconcile(revoke: [TopicPartition], assign: [TopicPartition])
        case heartbeat(Heartbeat)
        /// `poll` was not called for `max.poll.interval.ms`: send the leave heartbeat, then
        /// ``left(now:)``.
        case leaveForPollTimeout
        case wait(until: Int64?)
    }

    /// The fields of the next ConsumerGroupHeartbeat, before topic names become ids.
    struct Heartbeat: Sendable, Equatable {
        var memberId: String
        var memberEpoch: Int32
        var instanceId: String?
        var rebalanceTimeoutMs: Int32
        /// Sent when joining and after the subscription changed; nil otherwise.
        var subscription: Subscription?
        var serverAssignor: String?
        var ownedPartitions: [TopicPartition]
    }

    enum Effect: Sendable, Equatable {
        case lost([TopicPartition])
        case findCoordinator
        case failed(ErrorCode)
    }

    let settings: Settings
    private(set) var memberId: String
    private(set) var memberEpoch: Int32 = 0
    private(set) var owned: Set<TopicPartition> = []
    /// The assignment the broker wants, while it differs from `owned`.
    private(set) var target: Set<TopicPartition>?
    private(set) var subscription: Subscription
    private var subscriptionPending = true
    private(set) var failed = false
    private(set) var stalled = false
    private var heartbeatIntervalMs: Int64 = 5_000
    private var nextHeartbeat: Int64 = 0
    private var lastPoll: Int64

    /// `memberId` is the client's own (ConsumerGroupHeartbeat v1), or empty for the broker to
    /// choose one (v0).
    init(settings: Settings, memberId: String, subscription: Subscription, now: Int64) {
        self.settings = settings
        self.memberId = memberId
        self.subscription = subscription
        lastPoll = now
    }

    func nextStep(now: Int64) -> Step {
        if failed || stalled { return .wait(until: nil) }
        if let target, target != owned {
            return .reconcile(
                revoke: owned.subtracting(target).sorted(by: TopicPartition.ordered),
                assign: target.subtracting(owned).sorted(by: TopicPartition.ordered))
        }
        let pollDeadline = lastPoll + Int64(settings.maxPollIntervalMs)
        if memberEpoch > 0 && now >= pollDeadline { return .leaveForPollTimeout }
        if now >= nextHeartbeat {
            let joining = memberEpoch == 0
            return .heartbeat(Heartbeat(
                memberId: memberId, memberEpoch: memberEpoch, instanceId: settings.instanceId,
                rebalanceTimeoutMs: settings.maxPollIntervalMs,
                subscription: joining || subscriptionPending ? subscription : nil,
                serverAssignor: joining ? settings.serverAssignor : nil,
                ownedPartitions: owned.sorted(by: TopicPartition.ordered)))
        }
        return .wait(until: memberEpoch > 0 ? min(nextHeartbeat, pollDeadline) : nextHeartbeat)
    }

    /// The heartbeat's answer. `assignment` is the target with topic ids resolved to names, nil
    /// when the response carries none (unchanged).
    mutating func onHeartbeat(
        _ code: ErrorCode, memberId: String?, memberEpoch: Int32, heartbeatIntervalMs: Int32,
        assignment: Set<TopicPartition>?, sentSubscription: Bool, now: Int64
    ) -> [Effect] {
        switch code {
        case .none:
            if let memberId, !memberId.isEmpty { self.memberId = memberId }
            self.memberEpoch = memberEpoch
            if heartbeatIntervalMs > 0 { self.heartbeatIntervalMs = Int64(heartbeatIntervalMs) }
            nextHeartbeat = now + self.heartbeatIntervalMs
            if sentSubscription { subscriptionPending = false }
            if let assignment { target = assignment }
            return []
        case .fencedMemberEpoch, .unknownMemberId:
            return rejoin(now: now)
        case .unreleasedInstanceId:
            nextHeartbeat = now + settings.retryBackoffMs
            return []
        case let code where code.meansCoordinatorMoved:
            nextHeartbeat = now + settings.retryBackoffMs
            return [.findCoordinator]
        case let code:
            failed = true
            return [.failed(code)]
        }
    }

    /// The heartbeat could not be sent or answered: try again after the backoff.
    mutating func onRequestFailed(now: Int64) -> [Effect] {
        nextHeartbeat = now + settings.retryBackoffMs
        return [.findCoordinator]
    }

    /// The target of a `.reconcile` step is now owned: tell the broker at once.
    mutating func reconciled(now: Int64) {
        if let target { owned = target }
        target = nil
        nextHeartbeat = now
    }

    mutating func polled(now: Int64) {
        lastPoll = now
        if stalled {
            stalled = false
            nextHeartbeat = now
        }
    }

    mutating func subscribe(_ subscription: Subscription) {
        guard subscription != self.subscription else { return }
        self.subscription = subscription
        subscriptionPending = true
    }

    /// After the leave heartbeat of a poll timeout: the partitions are lost until the next poll
    /// joins again.
    mutating func left(now: Int64) -> [Effect] {
        let effects = rejoin(now: now)
        stalled = true
        return effects
    }

    /// The epoch that leaves the group: -2 keeps a static member's place for its session.
    var leaveEpoch: Int32 { settings.instanceId == nil ? -1 : -2 }

    private mutating func rejoin(now: Int64) -> [Effect] {
        memberEpoch = 0
        target = nil
        subscriptionPending = true
        nextHeartbeat = now
        let lost = owned.sorted(by: TopicPartition.ordered)
        owned = []
        return lost.isEmpty ? [] : [.lost(lost)]
    }
}
