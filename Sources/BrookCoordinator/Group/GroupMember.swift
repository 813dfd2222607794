import NIOCore

/// One member of a classic group, as the coordinator knows it.
public struct GroupMember: Sendable, Equatable {
    /// A protocol the member supports, with its opaque metadata (for consumers, a
    /// ConsumerProtocolSubscription).
    public struct SupportedProtocol: Sendable, Equatable {
        public var name: String
        public var metadata: ByteBuffer

        public init(name: String, metadata: ByteBuffer) {
            self.name = name
            self.metadata = metadata
        }
    }

    public var memberId: String
    /// The static member's instance id (KIP-345), nil for dynamic members.
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var rebalanceTimeoutMs: Int32
    public var sessionTimeoutMs: Int32
    /// In the member's order of preference.
    public var protocols: [SupportedProtocol]
    /// What the leader assigned this member in the current generation.
    public var assignment: ByteBuffer = ByteBuffer()

    /// The member has sent JoinGroup for the rebalance in progress and waits for its answer.
    var awaitingJoin = false
    /// The member has sent SyncGroup and waits for the leader's assignment.
    var awaitingSync = false
    /// When the member is dropped unless it heartbeats again.
    var heartbeatDeadline: Int64 = 0

    public init(
        memberId: String, groupInstanceId: String?, clientId: String, clientHost: String,
        rebalanceTimeoutMs: Int32, sessionTimeoutMs: Int32, protocols: [SupportedProtocol]
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.sessionTimeoutMs = sessionTimeoutMs
        self.protocols = protocols
    }

    /// The metadata the member gave for `protocol`, empty when it does not support it.
    public func metadata(for protocolName: String?) -> ByteBuffer {
        protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
    }

    /// Whether a member rejoining with `protocols` asks for nothing new.
    func hasSameProtocols(as protocols: [SupportedProtocol]) -> Bool {
        self.protocols == protocols
    }

    /// Whether the member is kept alive regardless of heartbeats: members parked in JoinGroup
    /// or SyncGroup wait on the coordinator, not the other way round.
    func isExpired(now: Int64) -> Bool {
        !awaitingJoin && !awaitingSync && heartbeatDeadline <= now
    }
}
