import BrookProtocol
import NIOCore

/// A classic consumer group (JoinGroup/SyncGroup/Heartbeat/LeaveGroup): a value-type state
/// machine. Every event takes the current time and returns the ``GroupAction``s its owner must
/// carry out; nothing here does I/O or keeps time, so tests drive it with a manual clock.
///
/// Invariants: `members` holds every joined member (`memberOrder` keeps their join order, which
/// picks a new leader); `staticMembers` maps each static member's instance id to its current
/// member id; `pendingMembers` are ids handed out with MEMBER_ID_REQUIRED that have not joined
/// yet; `leaderId` is a member whenever the group is CompletingRebalance or Stable.
public struct ClassicGroup: Sendable {
    public let groupId: String
    public internal(set) var state: GroupState = .empty
    public internal(set) var generationId: Int32 = 0
    public internal(set) var protocolType: String?
    public internal(set) var protocolName: String?
    public internal(set) var leaderId: String?
    /// When the group entered its current state (ms since the epoch).
    public internal(set) var stateTimestamp: Int64
    public internal(set) var members: [String: GroupMember] = [:]
    var memberOrder: [String] = []
    var staticMembers: [String: String] = [:]
    /// Member ids handed out by MEMBER_ID_REQUIRED, with the time they expire.
    var pendingMembers: [String: Int64] = [:]
    /// When the join phase (PreparingRebalance) or the sync phase (CompletingRebalance) ends.
    var phaseDeadline: Int64?
    /// While a new group waits for its first members (`group.initial.rebalance.delay.ms`), the
    /// latest the join phase may be extended to.
    var initialDelayLimit: Int64?

    public init(groupId: String, now: Int64) {
        self.groupId = groupId
        self.stateTimestamp = now
    }

    /// The members in the order they joined.
    public var orderedMembers: [GroupMember] { memberOrder.compactMap { members[$0] } }

    /// The earliest time something in the group times out, for the owner's timer.
    public var nextDeadline: Int64? {
        var deadline = phaseDeadline
        for member in members.values where !member.awaitingJoin && !member.awaitingSync {
            deadline = min(deadline ?? member.heartbeatDeadline, member.heartbeatDeadline)
        }
        for expiry in pendingMembers.values {
            deadline = min(deadline ?? expiry, expiry)
        }
        return deadline
    }

    /// The protocols every member supports.
    var commonProtocols: Set<String> {
        var common: Set<String>?
        for member in members.values {
            let names = Set(member.protocols.map(\.name))
            common = common.map { $0.intersection(names) } ?? names
        }
        return common ?? []
    }

    /// The protocol chosen by vote: each member votes for the first protocol in its own
    /// preference order that every member supports; most votes wins, ties go to the earliest
    /// joined member's preference.
    func selectProtocol() -> String? {
        let candidates = commonProtocols
        var votes: [String: Int] = [:]
        var firstChoice: [String] = []
        for member in orderedMembers {
            guard let choice = member.protocols.first(where: { candidates.contains($0.name) })?.name else { continue }
            votes[choice, default: 0] += 1
            if !firstChoice.contains(choice) { firstChoice.append(choice) }
        }
        var best: String?
        for choice in firstChoice where best == nil || votes[choice, default: 0] > votes[best!, default: 0] {
            best = choice
        }
        return best
    }

    mutating func transition(to state: GroupState, now: Int64) {
        self.state = state
        stateTimestamp = now
    }

    /// The error for a request naming `memberId` (and `instanceId` for static members), or nil
    /// when the member is known and not fenced.
    func memberError(memberId: String, instanceId: String?) -> ErrorCode? {
        if let instanceId {
            guard let current = staticMembers[instanceId] else { return .unknownMemberId }
            return current == memberId ? nil : .fencedInstanceId
        }
        return members[memberId] == nil ? .unknownMemberId : nil
    }

    mutating func add(_ member: GroupMember) {
        members[member.memberId] = member
        memberOrder.append(member.memberId)
        if let instanceId = member.groupInstanceId { staticMembers[instanceId] = member.memberId }
    }

    /// Removes a member; the caller decides what the group does next.
    mutating func remove(memberId: String) -> GroupMember? {
        guard let member = members.removeValue(forKey: memberId) else { return nil }
        memberOrder.removeAll { $0 == memberId }
        if let instanceId = member.groupInstanceId, staticMembers[instanceId] == memberId {
            staticMembers[instanceId] = nil
        }
        if leaderId == memberId { leaderId = memberOrder.first }
        return member
    }
}
