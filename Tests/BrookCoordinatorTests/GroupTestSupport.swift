@testable import BrookCoordinator
import BrookProtocol
import NIOCore

let configuration: GroupConfiguration = {
    var configuration = GroupConfiguration()
    configuration.initialRebalanceDelayMs = 3_000
    return configuration
}()

func protocols(_ names: String...) -> [GroupMember.SupportedProtocol] {
    names.map { GroupMember.SupportedProtocol(name: $0, metadata: ByteBuffer(string: "meta-\($0)")) }
}

func joinParameters(
    _ memberId: String = "", instance: String? = nil, protocols list: [GroupMember.SupportedProtocol] = protocols("range"),
    protocolType: String = "consumer", session: Int32 = 10_000, rebalance: Int32 = 30_000, requiresKnownMemberId: Bool = false
) -> JoinGroupParameters {
    JoinGroupParameters(
        memberId: memberId, groupInstanceId: instance, clientId: "client", clientHost: "/127.0.0.1",
        sessionTimeoutMs: session, rebalanceTimeoutMs: rebalance, protocolType: protocolType, protocols: list,
        requiresKnownMemberId: requiresKnownMemberId
    )
}

/// Hands out member ids m1, m2, ... in order.
final class MemberIds: @unchecked Sendable {
    private var next = 0
    func make() -> String {
        next += 1
        return "m\(next)"
    }
}

extension Array where Element == GroupAction {
    /// The JoinGroup answers among the actions, by member.
    var joins: [String: JoinGroupResult] {
        var answers: [String: JoinGroupResult] = [:]
        for case .completeJoin(let member, let result) in self { answers[member] = result }
        return answers
    }

    /// The SyncGroup answers among the actions, by member.
    var syncs: [String: SyncGroupResult] {
        var answers: [String: SyncGroupResult] = [:]
        for case .completeSync(let member, let result) in self { answers[member] = result }
        return answers
    }

    /// Whether the actions write the group's metadata (plainly or with the leader's assignment).
    var persists: Bool {
        contains { action in
            switch action {
            case .persist, .storeAssignment: true
            case .completeJoin, .completeSync: false
            }
        }
    }
}

extension ClassicGroup {
    /// SyncGroup carried out as the shard does when the log accepts the leader's assignment.
    mutating func syncStoring(
        memberId: String, groupInstanceId: String?, generationId: Int32, protocolType: String? = nil,
        protocolName: String? = nil, assignments: [String: ByteBuffer], now: Int64
    ) -> (GroupDecision<SyncGroupResult>, [GroupAction]) {
        var (decision, actions) = sync(
            memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId,
            protocolType: protocolType, protocolName: protocolName, assignments: assignments, now: now)
        for case .storeAssignment(let stored) in actions { actions += assignmentStored(stored, now: now) }
        return (decision, actions)
    }
}

/// A stable group of `count` dynamic members (m1 leader), at generation 1, assignments "a-mN".
func stableGroup(count: Int, ids: MemberIds = MemberIds(), now: Int64 = 0) -> ClassicGroup {
    var group = ClassicGroup(groupId: "g", now: now)
    for _ in 0..<count {
        _ = group.join(joinParameters(), configuration: configuration, now: now, newMemberId: ids.make)
    }
    _ = group.expire(configuration: configuration, now: now + configuration.initialRebalanceDelayMs)
    let at = now + configuration.initialRebalanceDelayMs
    var assignments: [String: ByteBuffer] = [:]
    for id in group.memberOrder { assignments[id] = ByteBuffer(string: "a-\(id)") }
    for id in group.memberOrder.reversed() {
        _ = group.syncStoring(memberId: id, groupInstanceId: nil, generationId: group.generationId,
                              assignments: id == group.leaderId ? assignments : [:], now: at)
    }
    return group
}
