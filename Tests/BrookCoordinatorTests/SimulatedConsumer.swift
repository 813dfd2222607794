@testable import BrookCoordinator
import BrookModel
import BrookProtocol

/// A KIP-848 consumer as librdkafka's `consumer` protocol behaves towards the coordinator: it
/// names itself, joins with a full heartbeat at epoch 0, afterwards sends its subscription only
/// when it changed and its owned partitions only to acknowledge an assignment it finished
/// reconciling to. An assignment arriving while it reconciles waits until the acknowledgement
/// is answered; one equal to what it has or is moving to is ignored. Revoking and assigning
/// happen when the application polls. Fenced or unknown, it drops its partitions and rejoins.
struct SimulatedConsumer {
    let memberId: String
    let instanceId: String?
    /// The subscribed topics; nil when the consumer is not subscribed (it is out of the group).
    var subscription: [String]?
    var serverAssignor: String?
    /// Whether the coordinator counts it as a member (it has answered a join).
    var joined = false
    var epoch: Int32 = 0
    /// The partitions the application consumes.
    var owned: Set<TopicPartition> = [] {
        didSet { everOwned = everOwned || !owned.isEmpty }
    }
    /// Whether it ever consumed a partition.
    private(set) var everOwned = false
    /// The assignment it reconciles to, until the coordinator has its acknowledgement.
    var target: Set<TopicPartition>?
    /// Whether the application has applied `target`, so the next heartbeat acknowledges it.
    var applied = false
    /// An assignment received while `target` is in progress.
    var next: Set<TopicPartition>?
    var subscriptionChanged = false
    /// False once the process is gone (killed, closed, or stopped by a fatal error).
    var alive = true
    /// The fatal error that stopped it, if any.
    var fatal: ErrorCode?
    /// It neither polls nor heartbeats until then (a long pause in the application).
    var stalledUntil: Int64 = 0

    static let rebalanceTimeoutMs: Int32 = 5_000

    init(memberId: String, instanceId: String?, subscription: [String], serverAssignor: String? = nil) {
        self.memberId = memberId
        self.instanceId = instanceId
        self.subscription = subscription
        self.serverAssignor = serverAssignor
    }

    /// Whether it takes part in the group now: alive, subscribed and not paused.
    func isActive(at now: Int64) -> Bool {
        alive && subscription != nil && stalledUntil <= now
    }

    /// The next heartbeat: a full one to join, otherwise only what changed.
    func heartbeat() -> ConsumerHeartbeat {
        let full = !joined
        return ConsumerHeartbeat(
            memberId: memberId, memberEpoch: full ? 0 : epoch, instanceId: full ? instanceId : nil, rackId: nil,
            rebalanceTimeoutMs: full ? Self.rebalanceTimeoutMs : -1,
            subscribedTopicNames: full || subscriptionChanged ? subscription : nil, subscribedTopicRegex: nil,
            serverAssignor: full ? serverAssignor : nil,
            ownedPartitions: full ? owned : (applied ? target : nil),
            clientId: memberId, clientHost: "/127.0.0.1"
        )
    }

    /// The leave heartbeat (epoch -1, or -2 for a static member that closes).
    func leaveHeartbeat(temporarily: Bool) -> ConsumerHeartbeat {
        ConsumerHeartbeat(
            memberId: memberId, memberEpoch: temporarily ? -2 : -1, instanceId: instanceId, rackId: nil,
            rebalanceTimeoutMs: -1, subscribedTopicNames: nil, subscribedTopicRegex: nil, serverAssignor: nil,
            ownedPartitions: nil, clientId: memberId, clientHost: "/127.0.0.1"
        )
    }

    /// Handles the answer to `heartbeat()`; returns the error it cannot handle, if any.
    mutating func receive(_ result: ConsumerHeartbeatResult, acknowledged: Bool) -> ErrorCode? {
        switch result.error {
        case .none:
            break
        case .unknownMemberId, .fencedMemberEpoch:
            lose()
            return nil
        case .unreleasedInstanceId:
            // Fatal for the client: it stops without ever having owned anything.
            fatal = result.error
            alive = false
            lose()
            return nil
        default:
            return result.error
        }
        joined = true
        epoch = result.memberEpoch
        subscriptionChanged = false
        if let assignment = result.assignment {
            next = assignment != (target ?? owned) ? assignment : nil
        }
        if acknowledged {
            target = nil
            applied = false
        }
        if target == nil, let assignment = next {
            next = nil
            if assignment != owned {
                target = assignment
                applied = false
            }
        }
        return nil
    }

    /// The application polls: it revokes and assigns what the target asks for.
    mutating func poll() {
        guard let target, !applied else { return }
        owned = target
        applied = true
    }

    /// Revokes everything before leaving (unsubscribe or close), as librdkafka does.
    mutating func revokeAll() {
        owned = []
        target = nil
        next = nil
        applied = false
    }

    /// Gives every partition up as lost and starts over at epoch 0.
    mutating func lose() {
        revokeAll()
        joined = false
        epoch = 0
    }
}
