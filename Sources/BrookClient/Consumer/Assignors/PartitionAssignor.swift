import BrookModel
import NIOCore

/// A client-side assignor of the classic group protocol: the group leader runs the one the
/// group chose over every member's subscription.
///
/// Assignors are pure values: the same members and partition counts always give the same
/// assignment, so they are unit-tested without a broker. Their ``name`` is the protocol name
/// in JoinGroup, shared with the Java client and librdkafka (`range`, `roundrobin`,
/// `cooperative-sticky`), so that consumers of any of them can share a group whichever leads it.
public protocol PartitionAssignor: Sendable {
    /// The protocol name members announce in JoinGroup.
    var name: String { get }
    /// The rebalance protocols the assignor supports; cooperative ones never hand a partition to
    /// a member while another still owns it.
    var supportedProtocols: Set<RebalanceProtocol> { get }
    /// The opaque `UserData` of the member's subscription.
    func userData(generation: Int32) -> ByteBuffer?
    /// Each member's partitions, keyed by member id (every member has an entry, maybe empty).
    func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]]
}

extension PartitionAssignor {
    public func userData(generation: Int32) -> ByteBuffer? { nil }
}

/// How a member gives up partitions in a classic group.
public enum RebalanceProtocol: Sendable, Hashable {
    /// Every member revokes all of its partitions before it rejoins.
    case eager
    /// Members keep their partitions across a rebalance and give up only those that move; a
    /// partition that moves is revoked in one rebalance and assigned in the next (KIP-429).
    case cooperative
}

/// One member's subscription, decoded from its ConsumerProtocolSubscription.
public struct AssignorMember: Sendable, Equatable {
    public var memberId: String
    public var instanceId: String?
    public var topics: Set<String>
    /// The partitions the member owned when it joined (cooperative members list them).
    public var ownedPartitions: [TopicPartition]
    /// The generation its owned partitions were assigned in; -1 when unknown.
    public var generation: Int32

    public init(memberId: String, instanceId: String? = nil, topics: Set<String>, ownedPartitions: [TopicPartition] = [], generation: Int32 = -1) {
        self.memberId = memberId
        self.instanceId = instanceId
        self.topics = topics
        self.ownedPartitions = ownedPartitions
        self.generation = generation
    }

    /// The Java client's member order (`MemberInfo`): static members by instance id first, then
    /// dynamic members by member id.
    static func precedes(_ lhs: AssignorMember, _ rhs: AssignorMember) -> Bool {
        switch (lhs.instanceId, rhs.instanceId) {
        case let (left?, right?): left == right ? lhs.memberId < rhs.memberId : left < right
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): lhs.memberId < rhs.memberId
        }
    }
}

/// The assignors a consumer may name in `partition.assignment.strategy`.
public enum AssignmentStrategy: String, Sendable, CaseIterable {
    case range
    case roundRobin = "roundrobin"
    case cooperativeSticky = "cooperative-sticky"

    /// The assignor implementing the strategy.
    public var assignor: any PartitionAssignor {
        switch self {
        case .range: RangeAssignor()
        case .roundRobin: RoundRobinAssignor()
        case .cooperativeSticky: CooperativeStickyAssignor()
        }
    }
}

extension TopicPartition {
    /// Topic, then partition: the order assignments are computed and listed in.
    static func ordered(_ lhs: TopicPartition, _ rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}
