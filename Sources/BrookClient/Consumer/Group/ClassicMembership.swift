import BrookModel
import BrookProtocol

/// A member's side of the classic group protocol (JoinGroup, SyncGroup, Heartbeat), with the
/// Java client's rules (AbstractCoordinator, ConsumerCoordinator), as a value-type state machine.
///
/// The driver asks ``nextStep(now:)`` what to do, does it (sends a request, revokes partitions,
/// sleeps) and reports the outcome through the `on…` methods, which answer with ``Effect``s:
/// partitions assigned, revoked or lost, the coordinator to look up again, a fatal error. Time
/// is passed in as milliseconds of an injected clock; the machine does no I/O.
///
/// Rebalances follow the member's rebalance protocol. **Eager**: before rejoining, the member
/// revokes everything it owns. **Cooperative** (KIP-429): it keeps its partitions while it
/// rejoins (giving up only those of topics it no longer subscribes to), lists them as owned in
/// its subscription, and after SyncGroup revokes what the new assignment leaves out; having
/// revoked some, it rejoins at once so that the follow-up rebalance can hand them on.
///
/// A member whose generation or member id the coordinator no longer knows
/// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) has lost its partitions: they are dropped without a
/// commit and the member joins again. KIP-394's MEMBER_ID_REQUIRED hands a new member its id,
/// with which it joins again at once.
struct ClassicMembership: Sendable {
    struct Settings: Sendable {
        var groupId: String
        var instanceId: String?
        var sessionTimeoutMs: Int32
        /// Sent as the rebalance timeout: `max.poll.interval.ms`.
        var maxPollIntervalMs: Int32
        var heartbeatIntervalMs: Int64
        var retryBackoffMs: Int64
        var rebalanceProtocol: RebalanceProtocol
    }

    enum Phase: Sendable, Equatable {
        /// A JoinGroup is due (first join, or a rebalance).
        case unjoined
        /// Joined; SyncGroup is due.
        case awaitingSync
        /// Holding an assignment and heartbeating.
        case stable
        /// Left the group because `poll` was not called for `max.poll.interval.ms`; rejoins at
        /// the next poll.
        case stalled
        /// Fenced or refused for good: the consumer fails.
        case failed
    }

    enum Step: Sendable, Equatable {
        /// Revoke these partitions (committing first) before joining; report with ``revoked(_:)``.
        case revoke([TopicPartition])
        case join
        case sync
        case heartbeat
        /// `poll` was not called for `max.poll.interval.ms`: send LeaveGroup, then ``left(now:)``.
        case leaveForPollTimeout
        /// Nothing to do until then (or until woken, when nil).
        case wait(until: Int64?)
    }

    enum Effect: Sendable, Equatable {
        case assigned([TopicPartition])
        case revoked([TopicPartition])
        case lost([TopicPartition])
        case findCoordinator
        case failed(ErrorCode)
    }

    /// What the JoinGroup answer says, whichever its version.
    struct JoinOutcome: Sendable {
        var errorCode: ErrorCode
        var generationId: Int32 = -1
        var memberId: String = ""
        var leaderId: String = ""
        var protocolName: String?
        var skipAssignment = false
    }

    let settings: Settings
    private(set) var phase = Phase.unjoined
    private(set) var memberId = ""
    private(set) var generationId: Int32 = -1
    /// The assignor the group chose in the current generation.
    private(set) var protocolName: String?
    /// Whether this member computes the assignment in the current generation.
    private(set) var isLeader = false
    private(set) var owned: Set<TopicPartition> = []
    private(set) var subscription: Set<String>
    /// No request before this time (backing off after an error).
    private var notBefore: Int64 = 0
    private var nextHeartbeat: Int64 = 0
    private var lastPoll: Int64

    init(settings: Settings, subscription: Set<String>, now: Int64) {
        self.settings = settings
        self.subscription = subscription
        lastPoll = now
    }

    var isStatic: Bool { settings.instanceId != nil }

    // MARK: Steps

    func nextStep(now: Int64) -> Step {
        switch phase {
        case .failed, .stalled:
            return .wait(until: nil)
        case .unjoined:
            if now < notBefore { return .wait(until: notBefore) }
            let revoking = settings.rebalanceProtocol == .eager ? owned : owned.filter { !subscription.contains($0.topic) }
            if !revoking.isEmpty { return .revoke(revoking.sorted(by: TopicPartition.ordered)) }
            return .join
        case .awaitingSync:
            return now < notBefore ? .wait(until: notBefore) : .sync
        case .stable:
            let pollDeadline = lastPoll + Int64(settings.maxPollIntervalMs)
            if now >= pollDeadline { return .leaveForPollTimeout }
            if now >= nextHeartbeat { return .heartbeat }
            return .wait(until: min(nextHeartbeat, pollDeadline))
        }
    }

    /// The partitions of a `.revoke` step were revoked.
    mutating func revoked(_ partitions: [TopicPartition]) {
        owned.subtract(partitions)
    }

    // MARK: Responses

    mutating func onJoin(_ outcome: JoinOutcome, now: Int64) -> [Effect] {
        switch outcome.errorCode {
        case .none:
            memberId = outcome.memberId
            generationId = outcome.generationId
            protocolName = outcome.protocolName
            isLeader = outcome.leaderId == memberId && !outcome.skipAssignment
            phase = .awaitingSync
            return []
        case .memberIdRequired:
            memberId = outcome.memberId
            return []
        case .unknownMemberId:
            return resetGeneration(now: now, forgetMemberId: true)
        case .illegalGeneration:
            return resetGeneration(now: now, forgetMemberId: false)
        case .rebalanceInProgress:
            notBefore = now + settings.retryBackoffMs
            return []
        case let code where code.meansCoordinatorMoved:
            notBefore = now + settings.retryBackoffMs
            return [.findCoordinator]
        case let code:
            phase = .failed
            return [.failed(code)]
        }
    }

    /// The SyncGroup answer: the member's partitions in this generation, or an error.
    mutating func onSync(_ code: ErrorCode, assignment: [TopicPartition], now: Int64) -> [Effect] {
        switch code {
        case .none:
            let assigned = Set(assignment)
            let revoked = owned.subtracting(assigned)
            let added = assigned.subtracting(owned)
            owned = assigned
            phase = .stable
            nextHeartbeat = now + settings.heartbeatIntervalMs
            var effects: [Effect] = []
            if !revoked.isEmpty {
                effects.append(.revoked(revoked.sorted(by: TopicPartition.ordered)))
                // The partitions given up are assigned to their new members in a follow-up rebalance.
                if settings.rebalanceProtocol == .cooperative { phase = .unjoined }
            }
            effects.append(.assigned(added.sorted(by: TopicPartition.ordered)))
            return effects
        case .rebalanceInProgress:
            phase = .unjoined
            return []
        case .unknownMemberId:
            return resetGeneration(now: now, forgetMemberId: true)
        case .illegalGeneration:
            return resetGeneration(now: now, forgetMemberId: false)
        case let code where code.meansCoordinatorMoved:
            phase = .unjoined
            notBefore = now + settings.retryBackoffMs
            return [.findCoordinator]
        case let code:
            phase = .failed
            return [.failed(code)]
        }
    }

    mutating func onHeartbeat(_ code: ErrorCode, now: Int64) -> [Effect] {
        guard phase == .stable else { return [] }
        switch code {
        case .none:
            nextHeartbeat = now + settings.heartbeatIntervalMs
            return []
        case .rebalanceInProgress:
            phase = .unjoined
            return []
        case .unknownMemberId:
            return resetGeneration(now: now, forgetMemberId: true)
        case .illegalGeneration:
            return resetGeneration(now: now, forgetMemberId: false)
        case let code where code.meansCoordinatorMoved:
            nextHeartbeat = now + settings.retryBackoffMs
            return [.findCoordinator]
        case let code:
            phase = .failed
            return [.failed(code)]
        }
    }

    /// A request could not be sent or answered (connection lost, coordinator gone): back off,
    /// find the coordinator and try the same step again (a sync becomes a rejoin).
    mutating func onRequestFailed(now: Int64) -> [Effect] {
        notBefore = now + settings.retryBackoffMs
        nextHeartbeat = now + settings.retryBackoffMs
        if phase == .awaitingSync { phase = .unjoined }
        return [.findCoordinator]
    }

    // MARK: Local events

    /// The consumer polled; a member stalled by a poll timeout rejoins.
    mutating func polled(now: Int64) {
        lastPoll = now
        if phase == .stalled { phase = .unjoined }
    }

    /// The subscribed topics (a pattern's matches may change); a change means a rebalance.
    mutating func subscribe(_ topics: Set<String>) {
        guard topics != subscription else { return }
        subscription = topics
        if phase == .stable || phase == .awaitingSync { phase = .unjoined }
    }

    /// The leader saw the partition counts change: a rebalance.
    mutating func requestRejoin() {
        if phase == .stable { phase = .unjoined }
    }

    /// After the LeaveGroup of a poll timeout: the partitions are lost and the member waits for
    /// the next poll.
    mutating func left(now: Int64) -> [Effect] {
        let effects = resetGeneration(now: now, forgetMemberId: !isStatic)
        phase = .stalled
        return effects
    }

    private mutating func resetGeneration(now: Int64, forgetMemberId: Bool) -> [Effect] {
        if forgetMemberId { memberId = "" }
        generationId = -1
        protocolName = nil
        isLeader = false
        phase = .unjoined
        let lost = owned.sorted(by: TopicPartition.ordered)
        owned = []
        return lost.isEmpty ? [] : [.lost(lost)]
    }
}
