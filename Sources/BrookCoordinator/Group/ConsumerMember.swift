import BrookModel

/// Where a member of a consumer group stands on its way to its target assignment (Kafka's
/// MemberState; the raw values are those of the `State` field of the current-assignment record).
public enum ConsumerMemberState: Int8, Sendable {
    /// The member holds its whole target assignment, at the epoch of that target.
    case stable = 0
    /// The member must give partitions up. It keeps its epoch, and gets nothing new, until a
    /// heartbeat reports owned partitions without them.
    case unrevokedPartitions = 1
    /// The member is at the target epoch, but some of its target partitions are still held by
    /// other members; it receives them in a later heartbeat once they are released.
    case unreleasedPartitions = 2
}

/// A member of a KIP-848 consumer group.
public struct ConsumerMember: Sendable, Equatable {
    /// The epoch of a heartbeat that leaves the group.
    public static let leaveEpoch: Int32 = -1
    /// The epoch of a static member that leaves for now (KIP-848): it keeps its instance id and
    /// its partitions until its session expires, so that a restart with the same
    /// `group.instance.id` takes them over without a rebalance.
    public static let temporaryLeaveEpoch: Int32 = -2

    public var memberId: String
    public var instanceId: String?
    public var rackId: String?
    public var clientId: String
    public var clientHost: String
    public var rebalanceTimeoutMs: Int32
    public var subscribedTopicNames: [String] = []
    public var subscribedTopicRegex: String? {
        didSet { compiledRegex = subscribedTopicRegex.flatMap { try? TopicRegex($0) } }
    }
    /// `subscribedTopicRegex` compiled once (nil when unset or not valid: it matches nothing).
    private(set) var compiledRegex: TopicRegex?
    public var serverAssignor: String?
    /// The epoch of the assignment the member holds (`temporaryLeaveEpoch` once a static member
    /// has left for now).
    public var epoch: Int32 = 0
    /// The member's epoch before the last change; a heartbeat in it is still accepted when it
    /// reports owning only assigned partitions (the answer that moved the epoch may be lost).
    public var previousEpoch: Int32 = 0
    public var state: ConsumerMemberState = .stable
    /// Partitions the member owns in its epoch.
    public var assigned: Set<TopicPartition> = []
    /// Partitions taken from the member that it has not yet confirmed releasing.
    public var pendingRevocation: Set<TopicPartition> = []
    var sessionDeadline: Int64 = 0
    /// When a member that must release partitions is fenced if it has not (set as it enters
    /// `unrevokedPartitions`: further target changes do not push it back).
    var revocationDeadline: Int64?
    /// The assignment last sent to the member, to send only changes.
    var lastSentAssignment: Set<TopicPartition>?

    public init(memberId: String, instanceId: String?, rackId: String?, clientId: String, clientHost: String, rebalanceTimeoutMs: Int32) {
        self.memberId = memberId
        self.instanceId = instanceId
        self.rackId = rackId
        self.clientId = clientId
        self.clientHost = clientHost
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
    }

    /// Whether this is a static member that has left for now.
    var hasLeftTemporarily: Bool { epoch == Self.temporaryLeaveEpoch }

    /// Moves the member to `newEpoch`, remembering the one it leaves.
    mutating func move(to newEpoch: Int32) {
        guard newEpoch != epoch else { return }
        previousEpoch = epoch
        epoch = newEpoch
    }

    /// Whether the member subscribes to `topic`, by name or by regular expression.
    func subscribes(to topic: String) -> Bool {
        if subscribedTopicNames.contains(topic) { return true }
        return compiledRegex?.wholeMatch(topic) ?? false
    }

    /// The topics of `catalog` this member subscribes to, by name or by regular expression.
    func subscribedTopics(in catalog: TopicCatalog) -> Set<String> {
        var topics = Set(subscribedTopicNames.filter { catalog.topics[$0] != nil })
        if let regex = compiledRegex {
            for name in catalog.topics.keys where !name.hasPrefix("__") && regex.wholeMatch(name) {
                topics.insert(name)
            }
        }
        return topics
    }
}
