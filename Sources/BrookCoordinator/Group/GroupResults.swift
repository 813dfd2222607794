import BrookProtocol
import NIOCore

/// A JoinGroup request, as the state machine needs it.
public struct JoinGroupParameters: Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [GroupMember.SupportedProtocol]
    /// JoinGroup v4+: a member without an id is given one and asked to join again (KIP-394).
    public var requiresKnownMemberId: Bool

    public init(
        memberId: String, groupInstanceId: String?, clientId: String, clientHost: String,
        sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, protocolType: String,
        protocols: [GroupMember.SupportedProtocol], requiresKnownMemberId: Bool
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requiresKnownMemberId = requiresKnownMemberId
    }
}

/// The answer to one JoinGroup.
public struct JoinGroupResult: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var groupInstanceId: String?
        public var metadata: ByteBuffer
    }

    public var error: ErrorCode = .none
    public var generationId: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId: String = ""
    public var memberId: String = ""
    /// Every member's metadata for the chosen protocol; filled for the leader only.
    public var members: [Member] = []
    /// KIP-814: the leader already has an assignment and must not compute one.
    public var skipAssignment = false

    public init(error: ErrorCode = .none, memberId: String = "") {
        self.error = error
        self.memberId = memberId
    }
}

/// The answer to one SyncGroup.
public struct SyncGroupResult: Sendable, Equatable {
    public var error: ErrorCode = .none
    public var protocolType: String?
    public var protocolName: String?
    public var assignment = ByteBuffer()

    public init(error: ErrorCode = .none) {
        self.error = error
    }
}

/// What the owner of a group must do after an event: answer parked requests, persist.
public enum GroupAction: Sendable, Equatable {
    /// Answer the JoinGroup parked for `memberId`.
    case completeJoin(memberId: String, JoinGroupResult)
    /// Answer the SyncGroup parked for `memberId`.
    case completeSync(memberId: String, SyncGroupResult)
    /// The group's metadata (generation, members, assignments) changed: write it to the log.
    case persist
    /// The leader sent these assignments (by member id): write the group with them to the log,
    /// then call ``ClassicGroup/assignmentStored(_:now:)`` or
    /// ``ClassicGroup/assignmentNotStored(error:configuration:now:)`` and carry out what it returns.
    case storeAssignment([String: ByteBuffer])
}

/// Whether a JoinGroup or SyncGroup is answered now or parked until the rebalance moves on.
public enum GroupDecision<Result: Sendable & Equatable>: Sendable, Equatable {
    case respond(Result)
    /// Park the request of this member; a later ``GroupAction`` answers it.
    case wait(memberId: String)
}
